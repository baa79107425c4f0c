import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../app/config.ts';
import { type Andon, startAndon } from '../../app/runtime.ts';
import type { Draft } from '../../core/index.ts';

const XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>';

/** The web UI's routes over a real socket: who may open them, what they refuse, and that every string is escaped. */
describe('web UI routes: sign-in, refusals and escaping', () => {
  let andon: Andon;
  let caseId: string;
  let citation: { chunkId: string; documentId: string; start: number; end: number; quote: string };
  let evilChunk: { chunkId: string; documentId: string; start: number; end: number };
  const sessions: Record<string, { cookie: string; csrf: string }> = {};

  const get = (path: string, as?: string) =>
    fetch(`${andon.url}${path}`, {
      redirect: 'manual',
      headers: { accept: 'text/html', ...(as ? { cookie: sessions[as]!.cookie } : {}) },
    });
  const post = (path: string, as: string, fields: Record<string, string>, csrf = true) =>
    fetch(`${andon.url}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { accept: 'text/html', cookie: sessions[as]!.cookie },
      body: new URLSearchParams({ ...(csrf ? { _csrf: sessions[as]!.csrf } : {}), ...fields }),
    });

  beforeAll(async () => {
    andon = await startAndon(
      loadConfig({ PORT: '0', ANDON_DATA_DIR: 'memory://ui-routes', MQTT_EMBEDDED_PORT: '0', SIMULATOR: 'false' }),
      { log: () => {} },
    );
    for (const [username, password] of [
      ['quality', 'andon-quality'],
      ['operator', 'andon-operator'],
      ['engineer', 'andon-engineer'],
    ] as const) {
      const response = await fetch(`${andon.url}/login`, {
        method: 'POST',
        redirect: 'manual',
        body: new URLSearchParams({ username, password, next: '/' }),
      });
      const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0]!;
      const session = await andon.users.session(cookie.split('=')[1]!);
      sessions[username] = { cookie, csrf: session!.csrfToken };
    }

    // A stored-XSS attempt through every text a case page shows: title, description, draft, citation quote.
    const opened = await andon.cases.create({ title: `Seal drift ${XSS}`, description: `Reported: ${XSS}` });
    caseId = opened.id;
    const [sop] = await andon.knowledge.list({ kind: 'sop' });
    const shown = await andon.knowledge.show(sop!.id);
    const chunk = shown!.chunkList.find((entry) => entry.text.length > 80)!;
    const quote = chunk.text.slice(10, 60);
    citation = {
      chunkId: chunk.chunkId,
      documentId: shown!.id,
      start: chunk.start + 10,
      end: chunk.start + 60,
      quote,
    };
    const draft: Draft = {
      version: 1,
      source: 'offline',
      model: 'fixture',
      author: 'agent:offline-drafter',
      createdAt: new Date().toISOString(),
      summary: `Summary ${XSS}`,
      hypotheses: [
        {
          statement: `Hypothesis ${XSS}`,
          category: 'measurement',
          confidence: 0.6,
          evidenceFor: [`Evidence ${XSS}`],
          evidenceAgainst: [],
          citations: [{ ...citation, title: `Title ${XSS}`, section: '§ 1' }],
        },
      ],
      capa: {
        team: ['QA'],
        problem: `Problem ${XSS}`,
        containment: [{ text: `Contain ${XSS}`, owner: 'QA', due: null, citations: [] }],
        rootCause: [],
        corrective: [],
        preventive: [],
        effectiveness: [],
      },
      actions: [],
      flags: [],
    };
    await andon.drafts.save(caseId, draft);

    // An SOP whose own text tries markup: the citation view shows it as text.
    const added = await andon.knowledge.add({
      title: `Evil SOP ${XSS}`,
      kind: 'sop',
      documentNumber: 'SOP-EVIL-1',
      text: `# Evil SOP\n\n## 1 Scope\n\nThis section is plain. ${XSS} And the quoted sentence is here.\n`,
    });
    const evil = await andon.knowledge.show(added.documentId);
    const evilSection = evil!.chunkList.find((entry) => entry.text.includes('quoted sentence'))!;
    const at = evil!.text.indexOf('<script>');
    evilChunk = { chunkId: evilSection.chunkId, documentId: evil!.id, start: at, end: at + XSS.length };
  });
  afterAll(async () => {
    await andon?.close();
  });

  it('sends a visitor who is not signed in to the sign-in page, and refuses the live feed', async () => {
    for (const path of ['/', '/inbox', `/cases/${caseId}`, `/cite/1?doc=x`]) {
      const response = await get(path);
      expect(response.status, path).toBe(302);
      expect(response.headers.get('location'), path).toMatch(/^\/login\?next=/);
    }
    const feed = await fetch(`${andon.url}/ui/events/overview`);
    expect(feed.status).toBe(401);
    const edit = await fetch(`${andon.url}/cases/${caseId}/edit`, { method: 'POST', redirect: 'manual' });
    expect([302, 401]).toContain(edit.status);
    expect(await andon.drafts.versions(caseId)).toHaveLength(1);
  });

  it('keeps the user name after a wrong password (escaped) and says where sign-in leads', async () => {
    const failed = await fetch(`${andon.url}/login`, {
      method: 'POST',
      redirect: 'manual',
      body: new URLSearchParams({ username: `q${XSS}`, password: 'nope', next: `/cases/${caseId}` }),
    });
    expect(failed.status).toBe(401);
    const html = await failed.text();
    expect(html).toContain('User name or password is wrong.');
    expect(html).toContain(
      'value="q&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"',
    );
    expect(html).not.toContain('<script>alert');
    const prompt = await (await get(`/login?next=${encodeURIComponent(`/cases/${caseId}`)}`)).text();
    expect(prompt).toContain(`Sign in to open case ${caseId}.`);
  });

  it('serves uPlot and the islands from andon itself, and nothing else under /ui/assets', async () => {
    const uplot = await fetch(`${andon.url}/ui/assets/uplot.js`);
    expect(uplot.status).toBe(200);
    expect(uplot.headers.get('content-type')).toMatch(/javascript/);
    expect(await uplot.text()).toContain('uPlot');
    expect((await fetch(`${andon.url}/ui/assets/uplot.css`)).headers.get('content-type')).toMatch(/css/);
    expect((await fetch(`${andon.url}/ui/assets/..%2F..%2Fpackage.json`)).status).toBe(404);
    expect((await fetch(`${andon.url}/ui/assets/constructor`)).status).toBe(404);
  });

  it('escapes case, draft and citation text on the overview and the case page', async () => {
    for (const path of ['/', '/cases', `/cases/${caseId}`]) {
      const html = await (await get(path, 'quality')).text();
      expect(html, path).not.toContain('<script>alert');
      expect(html, path).not.toContain('<img src=x');
      expect(html, path).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    }
    const page = await (await get(`/cases/${caseId}`, 'quality')).text();
    expect(page).toContain('<span class="offline">Offline draft</span>');
    expect(page).toContain(`/cite/${citation.chunkId}?doc=${encodeURIComponent(citation.documentId)}`);
    // Nothing to sign (triage is not waiting), so no signature form is offered.
    expect(page).not.toContain('name="decision"');
    // The reason an SSO signature failed comes back in the link (server/oidc.ts): shown as text.
    const failed = await (await get(`/cases/${caseId}?signError=${encodeURIComponent(XSS)}`, 'quality')).text();
    expect(failed).toMatch(/role="alert"[\s\S]*&lt;script&gt;alert[\s\S]*Nothing was signed\./);
    expect(failed).not.toContain('<script>alert');
  });

  it('opens a citation at its section with exactly the quoted span in <mark>', async () => {
    const response = await get(
      `/cite/${citation.chunkId}?doc=${encodeURIComponent(citation.documentId)}&start=${citation.start}&end=${citation.end}&case=${caseId}`,
      'quality',
    );
    expect(response.status).toBe(200);
    const html = await response.text();
    const marked = html.match(/<mark id="quote">([\s\S]*?)<\/mark>/)?.[1];
    expect(marked).toBe(
      citation.quote.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;'),
    );
    expect(html).toContain(`← Back to case ${caseId}`);
  });

  it('shows markup inside an SOP as text in the citation view', async () => {
    const html = await (
      await get(
        `/cite/${evilChunk.chunkId}?doc=${evilChunk.documentId}&start=${evilChunk.start}&end=${evilChunk.end}`,
        'quality',
      )
    ).text();
    expect(html).not.toContain('<script>alert');
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('<mark id="quote">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img');
    expect(html).toContain('Evil SOP &lt;script&gt;');
  });

  it('explains a citation that cannot be shown in plain words', async () => {
    const missing = await get(`/cite/${citation.chunkId}?doc=DOC-nope`, 'quality');
    expect(missing.status).toBe(404);
    expect(await missing.text()).toMatch(/no longer in the knowledge base.*search for it under Knowledge/);
    const noDoc = await fetch(`${andon.url}/cite/${citation.chunkId}`, {
      headers: { cookie: sessions.quality!.cookie },
    });
    expect(noDoc.status).toBe(400);
    const outside = await get(
      `/cite/${citation.chunkId}?doc=${encodeURIComponent(citation.documentId)}&start=0&end=99999`,
      'quality',
    );
    expect(outside.status).toBe(200);
    const html = await outside.text();
    expect(html).toContain('the whole section is outlined instead');
    expect(html).not.toContain('<mark');
    const badChunk = await get(`/cite/${encodeURIComponent('1 or 1=1')}?doc=x`, 'quality');
    expect(badChunk.status).toBe(400);
  });

  it('refuses edits without the CSRF token, from a role that may not edit, and of a draft nobody waits on', async () => {
    const form = { fromVersion: '1', summary: 'changed', 'capa.problem': 'p', comment: 'why' };
    const forged = await post(`/cases/${caseId}/edit`, 'engineer', form, false);
    expect(forged.status).toBe(403);
    expect(await forged.text()).toMatch(/CSRF check failed/);
    const operator = await post(`/cases/${caseId}/edit`, 'operator', form);
    expect(operator.status).toBe(403);
    expect(await operator.text()).toMatch(/Editing a draft needs one of the roles/);
    const engineer = await post(`/cases/${caseId}/edit`, 'engineer', form);
    expect(engineer.status).toBe(409);
    expect(await engineer.text()).toMatch(/only a pending draft can be edited/);
    const badDate = await post(`/cases/${caseId}/edit`, 'engineer', {
      ...form,
      'containment.0.text': 'x',
      'containment.0.due': 'soon',
    });
    expect(badDate.status).toBe(400);
    expect(await badDate.text()).toMatch(/Containment, item 1: the due date must be a date like 2026-12-31/);
    expect(await andon.drafts.versions(caseId)).toHaveLength(1);
  });

  it('refuses a decision from an operator and a rejection without a reason; nothing is signed', async () => {
    const operator = await post(`/cases/${caseId}/decision`, 'operator', {
      decision: 'approve',
      password: 'andon-operator',
    });
    expect(operator.status).toBeGreaterThanOrEqual(400);
    const silent = await post(`/cases/${caseId}/decision`, 'quality', {
      decision: 'reject',
      password: 'andon-quality',
    });
    expect(silent.status).toBe(400);
    expect(await silent.text()).toMatch(/A rejection needs a comment saying what must change/);
    expect(await andon.approvals.forCase(caseId)).toHaveLength(0);
  });

  it('gives the inbox to each role with what waits for them, and streams the overview as escaped HTML', async () => {
    const inbox = await (await get('/inbox', 'operator')).text();
    expect(inbox).toContain('Nothing is waiting for you.');
    const controller = new AbortController();
    const feed = await fetch(`${andon.url}/ui/events/overview`, {
      headers: { cookie: sessions.quality!.cookie },
      signal: controller.signal,
    });
    expect(feed.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = feed.body!.getReader();
    let text = '';
    while (!text.includes('\n\n')) text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    expect(text).toMatch(/^event: update\ndata: /);
    const message = JSON.parse(text.split('data: ')[1]!.split('\n')[0]!) as { sections: Record<string, string> };
    expect(Object.keys(message.sections)).toEqual(['live-alarms', 'live-cases', 'live-kpis']);
    expect(message.sections['live-cases']).toContain('&lt;script&gt;');
    expect(message.sections['live-cases']).not.toContain('<script>alert');
  });
});
