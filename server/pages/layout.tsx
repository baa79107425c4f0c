import type { Child } from 'hono/jsx';
import type { User } from '../../store/index.ts';
import { navFor } from './nav.ts';

const css = `
:root{--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--bg:#f6f8fa;--accent:#0b5cad;--bad:#b42318;--ok:#1a7f37;--warn:#9a6700}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,Segoe UI,sans-serif;color:var(--fg);background:#fff}
header{display:flex;gap:1.5rem;align-items:center;padding:.6rem 1.2rem;background:#0d1117;color:#fff;flex-wrap:wrap}
header a{color:#fff;text-decoration:none}header a:hover,header a:focus{text-decoration:underline}
header nav.main-nav{display:flex;gap:.9rem;flex-wrap:wrap}header .brand{font-weight:700;letter-spacing:.04em}header .who{margin-left:auto;font-size:.9em;color:#c9d1d9}
main{max-width:1100px;margin:0 auto;padding:1rem 1.2rem 3rem}h1{font-size:1.5rem;margin:.6rem 0}h2{font-size:1.15rem;margin:1.6rem 0 .5rem;border-bottom:1px solid var(--line);padding-bottom:.2rem}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}th{background:var(--bg);font-weight:600}
.badge{display:inline-block;padding:.05rem .5rem;border-radius:1rem;font-size:.82em;border:1px solid var(--line);background:var(--bg)}
.badge.awaiting_approval,.badge.high,.badge.critical,.badge.superseded{background:#fff1e5;border-color:#f0b37e;color:#7a3e00}
.badge.closed,.badge.succeeded,.badge.valid{background:#e6f4ea;border-color:#8fd19e;color:#0f5323}.badge.rejected,.badge.escalated,.badge.dead,.badge.invalid{background:#ffebe9;border-color:#f5a097;color:var(--bad)}
.offline{display:inline-block;background:#fff8c5;border:1px solid #d4a72c;color:#4d2d00;padding:.1rem .6rem;border-radius:.3rem;font-weight:600}
.card{border:1px solid var(--line);border-radius:.5rem;padding:.8rem 1rem;margin:.6rem 0;background:#fff}
.muted{color:var(--muted)}blockquote{margin:.3rem 0;padding:.2rem .8rem;border-left:3px solid var(--accent);background:var(--bg)}
pre{background:var(--bg);padding:.6rem;border-radius:.3rem;overflow:auto;font-size:.85em}
label{display:block;margin:.4rem 0 .1rem;font-weight:600}input,textarea{font:inherit;padding:.45rem;border:1px solid #8c959f;border-radius:.3rem;width:100%;max-width:28rem}
button{font:inherit;padding:.5rem 1.1rem;border-radius:.3rem;border:1px solid #1f2328;cursor:pointer;margin:.6rem .4rem 0 0;min-height:44px}
button.approve{background:var(--ok);color:#fff;border-color:#116329}button.reject{background:#fff;color:var(--bad);border-color:var(--bad)}
button:focus-visible,a:focus-visible,input:focus-visible,textarea:focus-visible{outline:3px solid #fb8c00;outline-offset:2px}
.error{background:#ffebe9;border:1px solid #f5a097;padding:.6rem .9rem;border-radius:.4rem}.notice{background:#e6f4ea;border:1px solid #8fd19e;padding:.6rem .9rem;border-radius:.4rem}
svg.chart{width:100%;height:auto;border:1px solid var(--line);border-radius:.4rem;background:#fff}
@media (max-width:700px){th,td{padding:.3rem}.hide-narrow{display:none}}
`;

export function Layout(props: {
  title: string;
  user: User | null;
  children: Child;
  refreshSeconds?: number | undefined;
  /** Extra stylesheets and client-script islands (same-origin URLs, e.g. from server/ui/assets.ts). */
  styles?: string[] | undefined;
  scripts?: string[] | undefined;
}) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        {props.refreshSeconds ? <meta http-equiv="refresh" content={String(props.refreshSeconds)} /> : null}
        <title>{`${props.title} · andon`}</title>
        <link rel="icon" href="data:," />
        <style>{css}</style>
        <link rel="stylesheet" href="/ui/assets/andon.css" />
        {(props.styles ?? []).map((href) => (
          <link rel="stylesheet" href={href} />
        ))}
        {(props.scripts ?? []).map((src) => (
          <script src={src} defer />
        ))}
      </head>
      <body>
        <header>
          <a class="brand" href="/">
            andon
          </a>
          <nav aria-label="Main" class="main-nav">
            {navFor(props.user).map((entry) => (
              <a href={entry.href}>{entry.label}</a>
            ))}
          </nav>
          <span class="who">
            {props.user ? (
              <>
                {props.user.displayName} ({props.user.roles.join(', ')}) ·{' '}
                <form method="post" action="/logout" style="display:inline">
                  <button
                    type="submit"
                    style="margin:0;padding:.1rem .6rem;min-height:0;background:none;color:#fff;border-color:#8c959f"
                  >
                    Sign out
                  </button>
                </form>
              </>
            ) : (
              <a href="/login">Sign in</a>
            )}
          </span>
        </header>
        <main>{props.children}</main>
      </body>
    </html>
  );
}

export function Badge(props: { value: string }) {
  return <span class={`badge ${props.value}`}>{props.value.replaceAll('_', ' ')}</span>;
}
