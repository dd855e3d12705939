/**
 * The dashboard's one stylesheet, served from a route (the CSP allows no inline style). Small on
 * purpose: readable on a laptop and a phone, visible focus for keyboard users, tables that scroll
 * sideways on a narrow screen instead of squeezing.
 */
export const STYLESHEET = `
:root { color-scheme: light; --ink: #1c2330; --muted: #5b6575; --line: #d8dde6; --accent: #1f5eff; --bad: #b3261e; --ok: #1b7f3b; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #f6f7fa; }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.top { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1.5rem; padding: .75rem 1rem; background: #fff; border-bottom: 1px solid var(--line); }
.brand { font-weight: 700; text-decoration: none; color: var(--ink); }
.top nav ul { display: flex; flex-wrap: wrap; gap: .25rem 1rem; list-style: none; margin: 0; padding: 0; }
.top nav a[aria-current="page"] { font-weight: 700; color: var(--ink); }
.who { margin-left: auto; display: flex; align-items: center; gap: .5rem; color: var(--muted); }
main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.5rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; }
.table-wrap { overflow-x: auto; background: #fff; border: 1px solid var(--line); border-radius: 6px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .5rem .75rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); white-space: nowrap; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
dl.fields { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 1rem; }
dl.fields dt { color: var(--muted); }
dl.fields dd { margin: 0; overflow-wrap: anywhere; }
form.filters, form.inline { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: end; margin: 0 0 1rem; }
label { display: block; font-weight: 600; }
input, select, textarea, button { font: inherit; }
input[type="text"], input[type="email"], input[type="password"], select, textarea { display: block; width: 100%; max-width: 28rem; padding: .4rem .5rem; border: 1px solid #9aa3b2; border-radius: 4px; background: #fff; }
textarea { max-width: 100%; min-height: 18rem; font-family: ui-monospace, monospace; font-size: .9rem; }
button, .button { display: inline-block; padding: .45rem .9rem; border-radius: 4px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; text-decoration: none; }
button.secondary, .button.secondary { background: #fff; color: var(--accent); }
button.danger { background: var(--bad); border-color: var(--bad); }
.notice { padding: .75rem 1rem; border-radius: 6px; border: 1px solid; background: #fff; }
.notice.error { border-color: var(--bad); color: var(--bad); }
.notice.ok { border-color: var(--ok); color: var(--ok); }
.status { display: inline-block; padding: 0 .5rem; border-radius: 999px; background: #e8ecf3; font-size: .875rem; }
.pager { display: flex; gap: 1rem; margin: 1rem 0; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 1rem; margin: 0 0 1rem; }
.field { margin: 0 0 .75rem; }
fieldset { border: 1px solid var(--line); border-radius: 6px; margin: 0 0 .75rem; }
fieldset label { display: inline; font-weight: 400; margin-right: 1rem; }
code.secret { display: block; padding: .75rem; background: #fff7d6; border: 1px solid #e0c45c; overflow-wrap: anywhere; font-size: 1rem; }
.signin { max-width: 24rem; margin: 4rem auto; background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 1.5rem; }
.muted { color: var(--muted); }
@media (max-width: 40rem) {
  .who { margin-left: 0; width: 100%; }
  dl.fields { grid-template-columns: 1fr; }
  dl.fields dt { margin-top: .5rem; }
}
`;
