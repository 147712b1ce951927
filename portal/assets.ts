// The user pages' stylesheet, served from /u/assets so the Content-Security-Policy can forbid inline styles.
import { createHash } from 'node:crypto';

export const PORTAL_CSS = `
:root { --ink:#1d2430; --muted:#566070; --line:#d9dee5; --bg:#f4f5f7; --card:#fff; --accent:#0b57d0;
  --danger:#b42318; --danger-bg:#fef3f2; --ok:#067647; --ok-bg:#ecfdf3; }
* { box-sizing:border-box; }
body { margin:0; font:16px/1.55 system-ui, -apple-system, "Segoe UI", "PingFang SC", "Microsoft YaHei", sans-serif;
  color:var(--ink); background:var(--bg); }
header.top { display:flex; align-items:center; gap:16px; padding:12px 20px; background:#17202e; color:#fff; }
header.top .brand { font-weight:600; margin-right:auto; }
header.top a { color:#fff; }
main { max-width:720px; margin:0 auto; padding:20px; }
h1 { font-size:24px; margin:8px 0 4px; }
h2 { font-size:18px; margin:0 0 10px; }
h3 { font-size:16px; margin:14px 0 6px; }
.muted { color:var(--muted); }
.card { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:18px; margin:0 0 16px; }
.outcome { border-color:#9fb8e8; }
.big { font-size:18px; font-weight:600; }
.quote { white-space:pre-wrap; background:#f8f9fb; border-left:3px solid var(--line); padding:8px 12px; margin:6px 0; }
dl.deadlines { display:grid; grid-template-columns:max-content 1fr; gap:4px 16px; margin:12px 0 0; }
dl.deadlines dt { font-weight:600; }
dl.deadlines dd { margin:0; }
.left { color:var(--muted); }
.left.over { color:var(--danger); }
.field { margin:0 0 14px; }
.field > label { display:block; font-weight:600; margin:0 0 4px; }
.field.check { display:flex; gap:8px; align-items:flex-start; }
.field.check label { font-weight:normal; }
textarea { width:100%; font:inherit; padding:8px; border:1px solid #9aa4b2; border-radius:6px; }
input[type=file] { font:inherit; }
.hint { font-size:14px; color:var(--muted); margin:4px 0 0; }
button, .button { font:inherit; padding:9px 18px; border-radius:6px; border:1px solid var(--accent); background:var(--accent);
  color:#fff; cursor:pointer; text-decoration:none; display:inline-block; }
button.secondary { background:#fff; color:var(--accent); }
:focus-visible { outline:3px solid #f5a524; outline-offset:2px; }
.alert { border-radius:6px; padding:10px 12px; margin:0 0 14px; border:1px solid; }
.alert.error { background:var(--danger-bg); border-color:#fecdca; color:#7a271a; }
.alert p { margin:4px 0 0; }
.inline { display:inline-block; margin:0 8px 8px 0; }
.badge { display:inline-block; padding:2px 8px; border-radius:10px; background:#fef0c7; color:#93370d; font-weight:600; font-size:13px; }
ol.history { padding-left:20px; }
footer.foot { max-width:720px; margin:0 auto; padding:0 20px 30px; font-size:14px; color:var(--muted); }
.letter h2 { margin-top:18px; }
@media print {
  header.top, footer.foot, .no-print { display:none; }
  body { background:#fff; }
  .card { border:none; padding:0; }
}
`;

const VERSION = createHash('sha256').update(PORTAL_CSS).digest('hex').slice(0, 12);
export const PORTAL_CSS_PATH = `/u/assets/portal.css?v=${VERSION}`;
