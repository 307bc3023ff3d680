import { alertText, type Alert } from "./alert.js";

/** Slack incoming webhook: a text fallback and one section per alert. */
export function slackPayload(alerts: readonly Alert[]): unknown {
  return {
    text: alerts.map(alertText).join("\n"),
    blocks: alerts.map((a) => ({
      type: "section",
      text: { type: "mrkdwn", text: `*${a.title}*\n${alertText(a)}` },
    })),
  };
}

/** Alertmanager v2 POST /api/v2/alerts body: one postable alert per alert. */
export function alertmanagerPayload(alerts: readonly Alert[]): unknown {
  return alerts.map((a) => ({
    labels: {
      alertname: a.type === "break-glass" ? "GitOpsGuardBreakGlass" : "GitOpsGuardDrift",
      severity: a.severity,
      kind: a.kind,
      ...(a.namespace === undefined ? {} : { namespace: a.namespace }),
      name: a.name,
      user: a.user,
      type: a.type,
    },
    annotations: {
      summary: a.title,
      description: alertText(a),
      fields: a.fields.join(", "),
      ...(a.gitPath === undefined ? {} : { git_path: a.gitPath }),
      ...(a.reason === undefined ? {} : { reason: a.reason }),
    },
    startsAt: a.time,
    // Drift is an event, not a state: the alert resolves by itself after an hour.
    endsAt: new Date(Date.parse(a.time) + 3_600_000).toISOString(),
    generatorURL: `gitops-guard://journal/${String(a.seq)}`,
  }));
}

/** The generic webhook's JSON: the alerts as they are. */
export function webhookPayload(alerts: readonly Alert[]): unknown {
  return { source: "gitops-guard", alerts };
}
