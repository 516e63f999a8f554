extension Dashboard {
    /// `/ui/dashboard.css`: system fonts, a light and a dark scheme, cards in a grid.
    static let style = #"""
:root {
  --bg: #f4f5f7; --card: #fff; --text: #1d2330; --muted: #6b7280; --line: #e3e6eb;
  --ok: #15803d; --ok-bg: #dcfce7; --bad: #b91c1c; --bad-bg: #fee2e2; --wait: #92400e; --wait-bg: #fef3c7;
  --accent: #2563eb; --new: #eff6ff;
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #111318; --card: #1a1d24; --text: #e5e7eb; --muted: #9ca3af; --line: #2a2f3a;
    --ok: #4ade80; --ok-bg: #14321f; --bad: #f87171; --bad-bg: #3b1515; --wait: #fbbf24; --wait-bg: #3a2a08;
    --accent: #60a5fa; --new: #172338;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 12px 20px; padding: 12px 24px;
  background: var(--card); border-bottom: 1px solid var(--line); }
h1 { margin: 0; font-size: 18px; }
h1 span { color: var(--muted); font-weight: normal; font-size: 14px; }
h2 { margin: 0 0 10px; font-size: 15px; }
.badges { display: flex; gap: 8px; }
.badge { padding: 2px 10px; border-radius: 999px; font-size: 12px; background: var(--wait-bg); color: var(--wait); }
.badge.ok { background: var(--ok-bg); color: var(--ok); }
.badge.bad { background: var(--bad-bg); color: var(--bad); }
#store-form { margin-left: auto; display: flex; align-items: center; gap: 8px; }
input, button { font: inherit; color: inherit; }
input { padding: 4px 8px; border: 1px solid var(--line); border-radius: 6px; background: var(--bg);
  font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 13px; }
button { padding: 4px 14px; border: 0; border-radius: 6px; background: var(--accent); color: #fff; cursor: pointer; }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 16px; padding: 16px 24px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; min-width: 0; }
.wide { grid-column: 1 / -1; }
.count { display: inline-block; min-width: 22px; padding: 0 7px; border-radius: 999px; background: var(--bg);
  color: var(--muted); font-size: 12px; text-align: center; }
.note { color: var(--muted); font-weight: normal; font-size: 12px; }
table { width: 100%; border-collapse: collapse; }
th { text-align: left; font-weight: 600; color: var(--muted); font-size: 12px; border-bottom: 1px solid var(--line); padding: 4px 8px; }
td { padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: middle; overflow-wrap: anywhere; }
tr:last-child td { border-bottom: 0; }
.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12.5px; }
.chip { display: inline-block; margin: 0 4px 2px 0; padding: 0 6px; border-radius: 4px; background: var(--bg);
  font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
tr.fresh td { background: var(--new); transition: background 2s; }
.bar { height: 3px; margin-top: 3px; border-radius: 2px; background: var(--accent); }
.empty { color: var(--muted); margin: 8px 0 0; }
.empty[hidden] { display: none; }
#activity { list-style: none; margin: 0; padding: 0; max-height: 260px; overflow-y: auto; }
#activity li { padding: 3px 0; border-bottom: 1px solid var(--line); }
#activity time { color: var(--muted); font-variant-numeric: tabular-nums; margin-right: 8px; }
.joined { color: var(--ok); } .left { color: var(--bad); } .updated { color: var(--wait); }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(120px, 1fr)); gap: 8px; margin: 0 0 12px; }
.figures div { background: var(--bg); border-radius: 8px; padding: 6px 10px; }
.figures dt { color: var(--muted); font-size: 12px; }
.figures dd { margin: 0; font-size: 18px; font-variant-numeric: tabular-nums; }
#login { display: flex; justify-content: center; padding: 48px 24px; }
#login[hidden], main[hidden] { display: none; }
#login form { width: min(520px, 100%); display: flex; flex-direction: column; gap: 10px; }
#login p { margin: 0; color: var(--muted); }
.error { color: var(--bad); min-height: 1.4em; }
footer { padding: 0 24px 16px; color: var(--muted); font-size: 12px; }
"""#
}
