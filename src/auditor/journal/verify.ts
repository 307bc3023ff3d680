import {
  chainHash,
  GENESIS_HASH,
  recordBody,
  type ChainHead,
  type JournalRecord,
} from "./record.js";

/** A record as the chain sees it: its canonical body text and the two hashes. */
export interface ChainLink {
  readonly seq: number;
  readonly body: string;
  readonly prevHash: string;
  readonly hash: string;
}

/** Links of records read back from JSON (an export): their bodies are canonicalised again. */
export function* linksOf(records: Iterable<JournalRecord>): Generator<ChainLink> {
  for (const { prevHash, hash, ...rest } of records) {
    yield { seq: rest.seq, body: recordBody(rest), prevHash, hash };
  }
}

export type VerifyProblem = "changed" | "removed" | "reordered" | "truncated";

export type VerifyResult =
  | { readonly ok: true; readonly count: number; readonly head: ChainHead }
  | {
      readonly ok: false;
      readonly count: number;
      readonly seq: number;
      readonly problem: VerifyProblem;
      readonly message: string;
    };

function fail(count: number, seq: number, problem: VerifyProblem, message: string): VerifyResult {
  return { ok: false, count, seq, problem, message };
}

/** Pure check of one record against the one before it; undefined when it holds. */
function checkRecord(record: ChainLink, prev: ChainHead, count: number): VerifyResult | undefined {
  const { prevHash, hash, body } = record;
  if (record.seq !== prev.seq + 1) {
    return record.seq > prev.seq + 1
      ? fail(
          count,
          prev.seq + 1,
          "removed",
          `record ${String(prev.seq + 1)} is missing (the next one is ${String(record.seq)})`,
        )
      : fail(
          count,
          record.seq,
          "reordered",
          `record ${String(record.seq)} comes after record ${String(prev.seq)}`,
        );
  }
  if (chainHash(prevHash, body) !== hash) {
    return fail(
      count,
      record.seq,
      "changed",
      `record ${String(record.seq)} was changed: its content no longer matches its hash`,
    );
  }
  if (prevHash !== prev.hash) {
    return fail(
      count,
      record.seq,
      "reordered",
      `record ${String(record.seq)} does not follow record ${String(prev.seq)}: it was moved, or one before it was replaced`,
    );
  }
  return undefined;
}

function anchorCheck(
  record: ChainLink,
  anchor: ChainHead | undefined,
): "match" | "mismatch" | "other" {
  if (anchor?.seq !== record.seq) return "other";
  return record.hash === anchor.hash ? "match" : "mismatch";
}

/** A gap in the sequence: if the missing record turns up later, it was moved, not removed. */
function removedOrMoved(
  gap: VerifyResult & { ok: false },
  rest: Iterator<ChainLink>,
): VerifyResult {
  for (let next = rest.next(); next.done !== true; next = rest.next()) {
    if (next.value.seq === gap.seq) {
      return fail(
        gap.count,
        gap.seq,
        "reordered",
        `record ${String(gap.seq)} was moved out of its place in the sequence`,
      );
    }
  }
  return gap;
}

/**
 * Walks the records in sequence order and names the first one that breaks the chain. An anchor
 * (a head exported earlier) also catches records removed from the end, which the chain alone
 * cannot see.
 */
export function verifyChain(records: Iterable<ChainLink>, anchor?: ChainHead): VerifyResult {
  let prev: ChainHead = { seq: 0, hash: GENESIS_HASH };
  let count = 0;
  let anchorSeen = anchor === undefined;
  const iterator = records[Symbol.iterator]();
  for (let next = iterator.next(); next.done !== true; next = iterator.next()) {
    const record = next.value;
    count++;
    const problem = checkRecord(record, prev, count);
    if (problem?.ok === false && problem.problem === "removed")
      return removedOrMoved(problem, iterator);
    if (problem !== undefined) return problem;
    prev = { seq: record.seq, hash: record.hash };
    const anchored = anchorCheck(record, anchor);
    if (anchored === "mismatch")
      return fail(
        count,
        record.seq,
        "changed",
        `record ${String(record.seq)} differs from the exported anchor`,
      );
    anchorSeen ||= anchored === "match";
  }
  if (!anchorSeen && anchor !== undefined) {
    return fail(
      count,
      prev.seq + 1,
      "truncated",
      `the journal ends at record ${String(prev.seq)} but the anchor names record ${String(anchor.seq)}`,
    );
  }
  return { ok: true, count, head: prev };
}
