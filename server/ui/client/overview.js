// Overview island: live updates over server-sent events. The server sends the sections as escaped HTML.
(() => {
  const status = document.getElementById('live-status');
  if (!status || !('EventSource' in window)) return;
  const pending = new Map();
  const apply = (id, html) => {
    const target = document.getElementById(id);
    if (!target) return;
    if (target.contains(document.activeElement)) {
      // Never pull the ground from under someone using the keyboard: update when focus leaves.
      pending.set(id, html);
      return;
    }
    target.innerHTML = html;
  };
  document.addEventListener('focusout', () => {
    setTimeout(() => {
      for (const [id, html] of pending) {
        const target = document.getElementById(id);
        if (target && !target.contains(document.activeElement)) {
          pending.delete(id);
          target.innerHTML = html;
        }
      }
    }, 0);
  });
  const source = new EventSource(status.dataset.source);
  source.addEventListener('update', (event) => {
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return;
    }
    for (const [id, html] of Object.entries(message.sections ?? {})) apply(id, String(html));
    status.dataset.state = 'live';
    status.textContent = `Live · updated ${String(message.at).replace('T', ' ').slice(0, 19)} UTC`;
  });
  source.addEventListener('error', () => {
    if (source.readyState === EventSource.CLOSED) {
      status.dataset.state = 'stopped';
      status.textContent = 'Live updates stopped. Reload the page; if they stop again, sign in again.';
    } else {
      status.dataset.state = 'reconnecting';
      status.textContent = 'Reconnecting live updates…';
    }
  });
})();
