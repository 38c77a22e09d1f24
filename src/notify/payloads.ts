import type { Alert } from './alert';

/**
 * Webhook bodies built from an alert, pure functions:
 *
 * - slackPayload: Slack's incoming-webhook message, `{ text, blocks }` (Block Kit). `text` is the
 *   notification/fallback line; blocks are a header, the message, the facts, the bullet lines,
 *   link buttons and a context line with the incident key. Slack's limits are respected
 *   (header 150 characters, section text 3000, 10 fields, 50 blocks).
 * - genericPayload: `{ type: 'keel.alert', version: 1, alert }` — the alert as validated.
 */

export type WebhookFormat = 'slack' | 'generic';

export function webhookPayload(alert: Alert, format: WebhookFormat): SlackMessage | ReturnType<typeof genericPayload> {
  return format === 'slack' ? slackPayload(alert) : genericPayload(alert);
}

export function genericPayload(alert: Alert): { type: 'keel.alert'; version: 1; alert: Alert } {
  return { type: 'keel.alert', version: 1, alert };
}

const SEVERITY_MARK: Record<Alert['severity'], string> = {
  info: ':information_source:',
  warning: ':warning:',
  critical: ':rotating_light:',
};

export interface SlackMessage {
  text: string;
  blocks: Record<string, unknown>[];
}

export function slackPayload(alert: Alert): SlackMessage {
  const label = alert.severity.toUpperCase();
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(`[${label}] ${alert.title}`, 150), emoji: true } },
  ];
  if (alert.message) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: truncate(escapeMrkdwn(alert.message), 3000) } });
  blocks.push({
    type: 'section',
    fields: [
      ['Model', alert.model],
      ['Version', alert.version === null ? '—' : String(alert.version)],
      ['Kind', alert.kind.replaceAll('_', ' ')],
      ['Severity', alert.severity],
    ].map(([name, value]) => ({ type: 'mrkdwn', text: truncate(`*${name}*\n${escapeMrkdwn(value)}`, 2000) })),
  });
  if (alert.lines.length) {
    // One section holds up to 3000 characters: as many whole lines as fit, then a count.
    const shown: string[] = [];
    let length = 0;
    for (const line of alert.lines) {
      const bullet = `• ${escapeMrkdwn(line)}`;
      if (length + bullet.length + 40 > 3000) break;
      shown.push(bullet);
      length += bullet.length + 1;
    }
    if (shown.length < alert.lines.length) shown.push(`… and ${alert.lines.length - shown.length} more`);
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: shown.join('\n') } });
  }
  if (alert.links.length) {
    blocks.push({
      type: 'actions',
      elements: alert.links
        .slice(0, 5)
        .map((link) => ({ type: 'button', text: { type: 'plain_text', text: truncate(link.label, 75) }, url: link.url })),
    });
  }
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: truncate(`incident \`${escapeMrkdwn(alert.incidentKey)}\` · observed ${alert.occurredAt}`, 3000) }],
  });
  return { text: truncate(`${SEVERITY_MARK[alert.severity]} [${label}] ${escapeMrkdwn(alert.title)}`, 3000), blocks };
}

/** Slack's mrkdwn treats &, < and > as control characters. */
export function escapeMrkdwn(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
