// Case page island: the electronic-signature dialog as a modal. The buttons open it (without script they reload the
// page with the dialog shown inline); Tab and Shift+Tab stay inside it; Escape and Cancel close it and return the focus
// to the button that opened it; the time shown ticks while it is open.
(() => {
  const dialogs = document.querySelectorAll('dialog[data-modal]');
  if (dialogs.length === 0 || typeof HTMLDialogElement !== 'function') return;
  const focusable =
    'a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), textarea:not([disabled]), select:not([disabled]), [tabindex]:not([tabindex="-1"])';
  const pad = (n) => String(n).padStart(2, '0');
  const utc = (d) =>
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`;
  let opener = null;
  let ticking = 0;

  const tick = (dialog) => {
    const clock = dialog.querySelector('time[data-clock]');
    if (!clock) return;
    const now = new Date();
    clock.textContent = utc(now);
    clock.setAttribute('datetime', now.toISOString());
  };

  const open = (dialog, from) => {
    opener = from ?? document.activeElement;
    // shown inline by the server: take it out of the page flow without a close event, then show it as a modal
    if (dialog.open) dialog.removeAttribute('open');
    dialog.showModal();
    tick(dialog);
    clearInterval(ticking);
    ticking = setInterval(() => tick(dialog), 1000);
    const first = dialog.querySelector('[autofocus]') ?? dialog.querySelector(focusable);
    first?.focus();
  };

  for (const dialog of dialogs) {
    dialog.addEventListener('keydown', (event) => {
      if (event.key !== 'Tab') return;
      const items = [...dialog.querySelectorAll(focusable)].filter((item) => item.offsetParent !== null);
      if (items.length === 0) return;
      const first = items[0];
      const last = items[items.length - 1];
      if (event.shiftKey && (document.activeElement === first || !dialog.contains(document.activeElement))) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && (document.activeElement === last || !dialog.contains(document.activeElement))) {
        event.preventDefault();
        first.focus();
      }
    });
    dialog.addEventListener('close', () => {
      clearInterval(ticking);
      const back = opener && document.contains(opener) ? opener : document.querySelector(`[data-opens="${dialog.id}"]`);
      back?.focus();
      opener = null;
      // the address no longer says the dialog is open, so a reload does not reopen it
      if (new URLSearchParams(location.search).has('sign')) history.replaceState(null, '', location.pathname);
    });
    for (const cancel of dialog.querySelectorAll('[data-close]')) {
      cancel.addEventListener('click', (event) => {
        event.preventDefault();
        dialog.close('cancel');
      });
    }
    // shown inline by the server (no script, or a refused attempt): make it modal
    if (dialog.hasAttribute('open'))
      requestAnimationFrame(() => open(dialog, document.querySelector(`[data-opens="${dialog.id}"]`)));
  }

  for (const button of document.querySelectorAll('[data-opens]')) {
    const dialog = document.getElementById(button.dataset.opens);
    if (!(dialog instanceof HTMLDialogElement)) continue;
    button.addEventListener('click', (event) => {
      event.preventDefault();
      open(dialog, button);
    });
  }
})();
