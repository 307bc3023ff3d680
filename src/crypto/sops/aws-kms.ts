/**
 * A KmsDecryptor on the AWS SDK, as sops calls KMS: region from the key ARN, the file's
 * encryption context, STS AssumeRole when the file names a role. The SDK is imported on the
 * first call only, so commands that never meet a KMS key do not load it.
 */
import { kmsRegion, type KmsDecryptor } from "./kms.js";

export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface AwsKmsOptions {
  /** KMS endpoint URL, such as a local emulator; absent: the SDK resolves it. */
  readonly endpoint?: string;
  /** STS endpoint URL for roles; absent: the SDK resolves it. */
  readonly stsEndpoint?: string;
  /** Static credentials (Flux's `sops.aws-kms`); absent: the SDK's default chain. */
  readonly credentials?: AwsCredentials;
  /** AssumeRole session name; sops uses `sops@<hostname>`. */
  readonly roleSessionName?: string;
}

export interface AwsKmsDecryptor extends KmsDecryptor {
  /** Closes the SDK clients' connections. */
  close(): void;
}

interface Client {
  send(command: unknown): Promise<unknown>;
  destroy(): void;
}

type Credentials = AwsCredentials;

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

async function assumeRole(
  options: AwsKmsOptions,
  region: string,
  role: string,
): Promise<Credentials> {
  const { STSClient, AssumeRoleCommand } = await import("@aws-sdk/client-sts");
  const sts = new STSClient({
    region,
    ...(options.stsEndpoint === undefined ? {} : { endpoint: options.stsEndpoint }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
  });
  try {
    const out = await sts.send(
      new AssumeRoleCommand({
        RoleArn: role,
        RoleSessionName: options.roleSessionName ?? "gitops-guard",
      }),
    );
    const creds = out.Credentials;
    if (creds?.AccessKeyId === undefined || creds.SecretAccessKey === undefined) {
      throw new Error("STS returned no credentials");
    }
    return {
      accessKeyId: creds.AccessKeyId,
      secretAccessKey: creds.SecretAccessKey,
      ...(creds.SessionToken === undefined ? {} : { sessionToken: creds.SessionToken }),
    };
  } catch (err: unknown) {
    throw new Error(`cannot assume role ${role}: ${describe(err)}`, { cause: err });
  } finally {
    sts.destroy();
  }
}

async function makeClient(options: AwsKmsOptions, region: string, role: string): Promise<Client> {
  const credentials = role === "" ? options.credentials : await assumeRole(options, region, role);
  const { KMSClient } = await import("@aws-sdk/client-kms");
  return new KMSClient({
    region,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(credentials === undefined ? {} : { credentials }),
  });
}

/** A KmsDecryptor that calls AWS KMS (or the endpoint given) through the AWS SDK. */
export function createAwsKmsDecryptor(options: AwsKmsOptions = {}): AwsKmsDecryptor {
  // One client per region and role, for the life of this decryptor.
  const clients = new Map<string, Promise<Client>>();
  const clientFor = (region: string, role: string): Promise<Client> => {
    const cacheKey = `${region}\u0000${role}`;
    let client = clients.get(cacheKey);
    if (client === undefined) {
      client = makeClient(options, region, role);
      clients.set(cacheKey, client);
      void client.catch(() => clients.delete(cacheKey));
    }
    return client;
  };
  return {
    async decrypt(ciphertext, context, arn, role = "") {
      const region = kmsRegion(arn);
      if (region === undefined) throw new Error(`no valid KMS key ARN in ${arn}`);
      const client = await clientFor(region, role);
      const { DecryptCommand } = await import("@aws-sdk/client-kms");
      const hasContext = Object.keys(context).length > 0;
      try {
        const out = (await client.send(
          new DecryptCommand({
            CiphertextBlob: ciphertext,
            KeyId: arn,
            ...(hasContext ? { EncryptionContext: { ...context } } : {}),
          }),
        )) as { Plaintext?: Uint8Array };
        if (out.Plaintext === undefined) throw new Error("KMS returned no plaintext");
        return out.Plaintext;
      } catch (err: unknown) {
        throw new Error(describe(err), { cause: err });
      }
    },
    close() {
      for (const client of clients.values()) {
        void client.then(
          (c) => {
            c.destroy();
          },
          () => undefined,
        );
      }
      clients.clear();
    },
  };
}
