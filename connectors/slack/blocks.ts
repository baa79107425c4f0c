import {
  type ActionExecution,
  type Approval,
  actionDefinitions,
  type Case,
  type Citation,
  type Decision,
  type Deviation,
  type Draft,
} from '../../core/index.ts';

/** A Block Kit block or view as JSON (Slack validates it; tests assert on it). */
export type Block = Record<string, unknown>;
export type View = Record<string, unknown>;

export const ActionIds = {
  approve: 'andon_approve',
  reject: 'andon_reject',
  open: 'andon_open',
  signLink: 'andon_sign_link',
} as const;
export const SIGN_VIEW_CALLBACK = 'andon_sign';

const plain = (text: string, max = 150) => ({ type: 'plain_text', text: clip(text, max), emoji: true });
const mrkdwn = (text: string) => ({ type: 'mrkdwn', text: clip(text, 3000) });
const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
/** Escape the three characters Slack's mrkdwn treats as control characters. */
export const escapeText = (text: string) =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
const context = (...texts: string[]): Block => ({ type: 'context', elements: texts.map(mrkdwn) });
const section = (text: string): Block => ({ type: 'section', text: mrkdwn(text) });

const severityEmoji: Record<Case['severity'], string> = {
  low: ':large_blue_circle:',
  medium: ':large_yellow_circle:',
  high: ':large_orange_circle:',
  critical: ':red_circle:',
};

export const hashPrefix = (hash: string) => hash.slice(0, 12);
const when = (iso: string) => `<!date^${Math.floor(Date.parse(iso) / 1000)}^{date_short_pretty} {time}|${iso}>`;
const percent = (value: number) => `${Math.round(value * 100)}%`;
const draftLabel = (draft: Draft) =>
  draft.source === 'offline' ? 'Offline draft' : draft.source === 'llm' ? `Drafted by ${draft.model}` : 'Edited draft';

export const meaningOf = (decision: Decision) => (decision === 'approve' ? 'approved' : 'rejected');
export const meaningText = (decision: Decision) =>
  decision === 'approve'
    ? 'Approved: I have reviewed this record version and authorise the actions listed to be carried out.'
    : 'Rejected: I have reviewed this record version and do not authorise its actions; triage drafts again with my reason.';

const citationLine = (citation: Citation) =>
  `> “${escapeText(clip(citation.quote, 240))}” — _${escapeText(citation.title)}${citation.section ? `, ${escapeText(citation.section)}` : ''}_`;

/** Everything a case message shows. */
export interface CaseSnapshot {
  case: Case;
  deviations: Deviation[];
  draft: { draft: Draft; recordHash: string } | null;
  approvals: Approval[];
  executions: ActionExecution[];
  url: string;
  chartFileId: string | null;
}

/** The value of Approve…/Reject…: what the button was shown for, so a click on a stale message is caught. */
export interface ButtonValue {
  caseId: string;
  version: number;
  recordHash: string;
}

/** The one message of a case: summary, severity, production context, top hypotheses, chart, and the decision buttons. */
export function caseMessage(snapshot: CaseSnapshot): { text: string; blocks: Block[] } {
  const item = snapshot.case;
  const stored = snapshot.draft;
  const first = snapshot.deviations[0];
  const blocks: Block[] = [
    { type: 'header', text: plain(`${item.severity.toUpperCase()} · ${item.title}`) },
    section(
      `${severityEmoji[item.severity]} *${escapeText(stored?.draft.summary || first?.message || item.description || item.title)}*`,
    ),
  ];
  const fields = [
    `*Case*\n<${snapshot.url}|${item.id}>`,
    `*Severity*\n${item.severity}`,
    `*Status*\n${item.status.replaceAll('_', ' ')}`,
    item.context.line || item.area ? `*Line*\n${escapeText(item.context.line ?? item.area ?? '')}` : null,
    item.context.product ? `*Product*\n${escapeText(item.context.product)}` : null,
    item.context.lot ? `*Lot*\n${escapeText(item.context.lot)}` : null,
    item.context.order ? `*Order*\n${escapeText(item.context.order)}` : null,
    first ? `*Signal*\n\`${first.tag}\` ${first.detector}/${first.rule}` : null,
  ].filter((field): field is string => field !== null);
  blocks.push({ type: 'section', fields: fields.slice(0, 10).map(mrkdwn) });
  if (first) {
    const limits = [
      first.limits.lower !== null ? `LCL ${round(first.limits.lower)}` : null,
      first.limits.center !== null ? `CL ${round(first.limits.center)}` : null,
      first.limits.upper !== null ? `UCL ${round(first.limits.upper)}` : null,
    ].filter(Boolean);
    if (snapshot.chartFileId) {
      blocks.push({
        type: 'image',
        slack_file: { id: snapshot.chartFileId },
        alt_text: `Control chart of ${first.tag}: value ${round(first.value)} against ${limits.join(', ')}`,
        title: plain(`${first.tag} · ${limits.join(' · ')}`),
      });
    } else {
      blocks.push(
        context(`:chart_with_upwards_trend: \`${first.tag}\` = ${round(first.value)} (${limits.join(', ')})`),
      );
    }
  }
  if (!stored) {
    blocks.push(context(':hourglass_flowing_sand: Triage is gathering evidence and drafting root-cause hypotheses…'));
  } else {
    const top = stored.draft.hypotheses.slice(0, 3);
    if (top.length > 0) {
      blocks.push({ type: 'divider' });
      blocks.push(
        section(
          [
            '*Top hypotheses*',
            ...top.map((hypothesis, index) =>
              [
                `*${index + 1}. ${escapeText(clip(hypothesis.statement, 300))}* (${escapeText(hypothesis.category)}, ${percent(hypothesis.confidence)})`,
                ...hypothesis.citations.slice(0, 2).map(citationLine),
              ].join('\n'),
            ),
          ].join('\n'),
        ),
      );
    }
    if (stored.draft.actions.length > 0) {
      blocks.push(
        section(
          `*Proposed actions* (nothing runs before a signed approval)\n${stored.draft.actions
            .map((action) => `• ${actionDefinitions[action.type].title}: ${escapeText(clip(action.reason, 200))}`)
            .join('\n')}`,
        ),
      );
    }
    blocks.push(
      context(
        `${draftLabel(stored.draft)} · version ${stored.draft.version} · record \`${hashPrefix(stored.recordHash)}\``,
      ),
    );
  }
  const decided = stored
    ? snapshot.approvals.find((approval) => approval.draftVersion === stored.draft.version)
    : undefined;
  const outcome = decided ?? snapshot.approvals.at(-1);
  if (outcome) blocks.push(outcomeSection(outcome, snapshot.executions, item));
  const open = {
    type: 'button',
    action_id: ActionIds.open,
    text: plain('Open in andon'),
    url: snapshot.url,
  };
  const awaiting = item.status === 'awaiting_approval' && stored !== null && !decided;
  if (awaiting && stored) {
    const value: ButtonValue = { caseId: item.id, version: stored.draft.version, recordHash: stored.recordHash };
    blocks.push({
      type: 'actions',
      block_id: `decide:${item.id}:v${stored.draft.version}`,
      elements: [
        {
          type: 'button',
          action_id: ActionIds.approve,
          style: 'primary',
          text: plain('Approve…'),
          value: JSON.stringify(value),
        },
        {
          type: 'button',
          action_id: ActionIds.reject,
          style: 'danger',
          text: plain('Reject…'),
          value: JSON.stringify(value),
        },
        open,
      ],
    });
  } else {
    blocks.push({ type: 'actions', block_id: `open:${item.id}`, elements: [open] });
  }
  return { text: `[${item.severity}] ${item.title} (${item.id}, ${item.status.replaceAll('_', ' ')})`, blocks };
}

function outcomeSection(approval: Approval, executions: ActionExecution[], item: Case): Block {
  const verb = approval.decision === 'approve' ? ':white_check_mark: *Approved*' : ':no_entry: *Rejected*';
  const lines = [
    `${verb} by *${escapeText(approval.signature.printedName)}* at ${when(approval.signature.signedAt)} (version ${approval.draftVersion}, record \`${hashPrefix(approval.signature.recordHash)}\`, meaning: ${approval.signature.meaning})`,
  ];
  if (approval.comment) lines.push(`> ${escapeText(clip(approval.comment, 500))}`);
  const ofApproval = executions.filter(
    (execution) => execution.status !== 'pending' || approval.decision === 'approve',
  );
  if (approval.decision === 'approve' && ofApproval.length > 0) {
    const done = ofApproval.filter((execution) => execution.status === 'succeeded').length;
    const dead = ofApproval.filter((execution) => execution.status === 'dead').length;
    lines.push(
      `Actions: ${done}/${ofApproval.length} executed${dead > 0 ? `, ${dead} in the dead-letter queue` : ''}${item.status === 'closed' ? ' · case closed' : ''}`,
    );
  }
  return section(lines.join('\n'));
}

const round = (value: number) => (Math.abs(value) >= 100 ? value.toFixed(1) : value.toPrecision(4));

/** A short message in a case's thread. */
export function threadMessage(text: string, detail?: string): { text: string; blocks: Block[] } {
  const blocks: Block[] = [section(text)];
  if (detail) blocks.push(context(detail));
  return { text: text.replaceAll('*', ''), blocks };
}

export interface SigningModalInput {
  case: Case;
  draft: Draft;
  recordHash: string;
  decision: Decision;
  signer: { displayName: string; username: string };
  /** Carried through the view submission: the message to update afterwards. */
  message: { channel: string; ts: string } | null;
}

/** The private metadata of the signing modal. */
export interface SigningModalMetadata {
  caseId: string;
  version: number;
  recordHash: string;
  decision: Decision;
}

/**
 * Step one of Approve…/Reject…: exactly what is signed (record version, hash prefix, each action with its dry-run
 * preview) and the signature's meaning. Submitting it asks andon for a signing link; Slack never sees a password.
 */
export function signingModal(input: SigningModalInput): View {
  const metadata: SigningModalMetadata = {
    caseId: input.case.id,
    version: input.draft.version,
    recordHash: input.recordHash,
    decision: input.decision,
  };
  const approving = input.decision === 'approve';
  const blocks: Block[] = [
    section(
      `You are signing *${meaningOf(input.decision)}* for *version ${input.draft.version}* of case *${escapeText(input.case.id)}*: ${escapeText(clip(input.case.title, 200))}`,
    ),
    context(
      `Record hash \`${hashPrefix(input.recordHash)}…\` (SHA-256 of exactly this version) · ${draftLabel(input.draft)} · signer ${escapeText(input.signer.displayName)} (${escapeText(input.signer.username)} in andon)`,
    ),
    { type: 'divider' },
  ];
  if (input.draft.actions.length === 0) blocks.push(section('_This version proposes no actions._'));
  for (const action of input.draft.actions.slice(0, 10)) {
    blocks.push(
      section(
        `*${actionDefinitions[action.type].title}* · risk ${action.risk}${approving ? '' : ' · will *not* run'}\n\`\`\`${clip(action.preview, 2500)}\`\`\``,
      ),
    );
  }
  blocks.push({ type: 'divider' });
  blocks.push(section(`*Signature meaning*\n${meaningText(input.decision)}`));
  blocks.push({
    type: 'input',
    block_id: 'comment',
    optional: approving,
    label: plain(approving ? 'Comment (optional)' : 'Reason for rejecting'),
    element: {
      type: 'plain_text_input',
      action_id: 'comment',
      multiline: true,
      max_length: 4000,
    },
  });
  blocks.push(
    context(
      ':lock: Next, andon gives you a one-time signing link for this version, valid for you only, that asks for your andon password. Slack never sees your password.',
    ),
  );
  return {
    type: 'modal',
    callback_id: SIGN_VIEW_CALLBACK,
    private_metadata: JSON.stringify(metadata),
    title: plain(approving ? 'Approve and sign' : 'Reject and sign', 24),
    submit: plain('Get signing link', 24),
    close: plain('Cancel', 24),
    blocks,
  };
}

/** Step two: the signing link, shown in place of the modal after submission. */
export function signingLinkModal(input: {
  caseId: string;
  version: number;
  recordHash: string;
  decision: Decision;
  url: string;
  expiresAt: Date;
  ttlMinutes: number;
}): View {
  return {
    type: 'modal',
    callback_id: `${SIGN_VIEW_CALLBACK}_link`,
    title: plain(input.decision === 'approve' ? 'Approve and sign' : 'Reject and sign', 24),
    close: plain('Done', 24),
    blocks: [
      section(
        `Open the link to sign *${meaningOf(input.decision)}* for version ${input.version} of *${escapeText(input.caseId)}* (record \`${hashPrefix(input.recordHash)}…\`). andon asks for your password there.`,
      ),
      {
        type: 'actions',
        elements: [
          {
            type: 'button',
            action_id: ActionIds.signLink,
            style: 'primary',
            text: plain(`Sign in andon`),
            url: input.url,
          },
        ],
      },
      context(
        `The link works once, only for you, and expires in ${input.ttlMinutes} minutes (${when(input.expiresAt.toISOString())}). Opening it signs nothing; a forwarded link is useless without your password. This message updates when you have signed.`,
      ),
    ],
  };
}

/** An explanation only the clicking user sees. */
export function refusal(text: string): { text: string; blocks: Block[] } {
  return { text, blocks: [section(`:warning: ${text}`)] };
}

export interface DigestLine {
  id: string;
  title: string;
  severity: Case['severity'];
  status: Case['status'];
  url: string;
}

/** One message for a flood of cases in a channel; updated as cases arrive instead of one message each. */
export function digestMessage(input: { title: string; lines: DigestLine[]; since: string }): {
  text: string;
  blocks: Block[];
} {
  const shown = input.lines.slice(-15);
  const hidden = input.lines.length - shown.length;
  return {
    text: `${input.title}: ${input.lines.length} case(s)`,
    blocks: [
      { type: 'header', text: plain(`${input.title}: ${input.lines.length} case(s)`) },
      section(
        [
          ...shown.map(
            (line) =>
              `${severityEmoji[line.severity]} <${line.url}|${line.id}> ${escapeText(clip(line.title, 120))} · _${line.status.replaceAll('_', ' ')}_`,
          ),
          hidden > 0 ? `…and ${hidden} earlier case(s)` : '',
        ]
          .filter(Boolean)
          .join('\n'),
      ),
      context(
        `Alarm budget reached since ${when(input.since)}: new cases in this channel are listed here, in one message that updates, instead of one message each. Approve and reject them in andon.`,
      ),
    ],
  };
}

/** A chat answer, or the answer so far while it is written. */
export function chatMessage(input: { text: string; citations: Citation[]; label: string; done: boolean }): {
  text: string;
  blocks: Block[];
} {
  const body = input.text || '…';
  const chunks: string[] = [];
  for (let start = 0; start < body.length && chunks.length < 8; start += 2900)
    chunks.push(body.slice(start, start + 2900));
  const blocks: Block[] = chunks.map((chunk) => ({ type: 'section', text: { type: 'mrkdwn', text: chunk } }));
  if (input.done && input.citations.length > 0) {
    blocks.push(
      context(
        ...input.citations
          .slice(0, 9)
          .map(
            (citation, index) =>
              `[${index + 1}] ${escapeText(citation.title)}${citation.section ? `, ${escapeText(citation.section)}` : ''}`,
          ),
      ),
    );
  }
  blocks.push(context(input.done ? `${input.label} · read-only: the assistant cannot act` : ':writing_hand: writing…'));
  return { text: body.slice(0, 3000), blocks };
}
