"""A run's workflow drawn as inline SVG: one box per step from top to bottom, coloured by its
status, fan-out steps with their task counts, the step a run waits at outlined, and the
"stopped" branch of an approval drawn to the end. No script and no file from elsewhere: the
status page's own CSS colours the boxes (classes `st-<status>`), and the run page's live
update changes those classes in place.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from shared.app.run_steps import RunGraph, StepView

WIDTH = 640
BOX_W, BOX_H, GAP = 360, 46, 26
LEFT = (WIDTH - BOX_W) // 2
PILL_W, PILL_H = 90, 26
WAITING_NOTE = "waiting for a person's decision"


def status_class(status: str) -> str:
    """The CSS class of a step status: "partly failed" -> "st-partly-failed"."""
    return "st-" + status.replace(" ", "-")


def step_note(step: StepView) -> str:
    """What the box says under its title: the status, and for tasks how far they got."""
    if step.kind == "tasks" and step.total:
        failed = f", {step.failed} failed" if step.failed else ""
        return f"{step.status} · {step.done}/{step.total} tasks done{failed}"
    if step.kind == "approval":
        return WAITING_NOTE if step.status == "pending" else f"{step.status} · a person decides"
    return step.status


def draw_run_graph(graph: RunGraph, title: str = "The run's workflow") -> Markup:
    """The steps in order between start and end, with the edges LangGraph declares."""
    steps = list(graph.steps)
    row = BOX_H + GAP
    top = 12
    start_y = top
    first_y = start_y + PILL_H + GAP
    end_y = first_y + row * len(steps)
    height = end_y + PILL_H + 12
    centre = WIDTH // 2
    y_of = {step.name: first_y + row * i for i, step in enumerate(steps)}
    body: list[str] = [
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#667085"/></marker></defs>'
    ]
    body.append(_pill(centre, start_y, "start"))
    body.append(_pill(centre, end_y, "end"))
    names = [s.name for s in steps]
    for edge in graph.edges:
        source_bottom = start_y + PILL_H if edge.source == "__start__" else None
        if edge.source in y_of:
            source_bottom = y_of[edge.source] + BOX_H
        target_top = end_y if edge.target == "__end__" else y_of.get(edge.target)
        if source_bottom is None or target_top is None:
            continue
        follows = edge.target == "__end__" and edge.source == (names[-1] if names else None)
        adjacent = edge.target in y_of and names.index(edge.target) - 1 == (
            names.index(edge.source) if edge.source in names else -1
        )
        if adjacent or follows or edge.source == "__start__":
            body.append(_straight(centre, source_bottom, target_top, edge.label))
        else:
            body.append(_detour(source_bottom - BOX_H / 2, target_top + PILL_H / 2, edge.label))
    for step in steps:
        body.append(_box(step, y_of[step.name]))
    label = escape(title)
    return Markup(
        f'<svg id="run-graph" class="graph" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{label}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{label}</title>{''.join(body)}</svg>"
    )


def _pill(centre: int, y: float, text: str) -> str:
    x = centre - PILL_W / 2
    return (
        f'<rect x="{x:.0f}" y="{y:.0f}" width="{PILL_W}" height="{PILL_H}" rx="13" '
        f'fill="#f2f4f7" stroke="#98a2b3"/><text x="{centre}" y="{y + 17:.0f}" '
        f'text-anchor="middle" font-size="12" fill="#475467">{text}</text>'
    )


def _straight(centre: int, y1: float, y2: float, label: str | None) -> str:
    line = (
        f'<line x1="{centre}" y1="{y1:.0f}" x2="{centre}" y2="{y2 - 1:.0f}" stroke="#667085" '
        f'stroke-width="1.5" marker-end="url(#arrow)"/>'
    )
    if label:
        line += (
            f'<text x="{centre + 8}" y="{(y1 + y2) / 2 + 4:.0f}" font-size="11" '
            f'fill="#475467">if {escape(label)}</text>'
        )
    return line


def _detour(y1: float, y2: float, label: str | None) -> str:
    """An edge that skips steps: out of the box's right side, down, into the end pill."""
    out = LEFT + BOX_W
    side = out + 60
    into = WIDTH // 2 + PILL_W / 2
    path = f"M{out},{y1:.0f} H{side} V{y2:.0f} H{into + 1}"
    text = (
        f'<text x="{side + 6}" y="{(y1 + y2) / 2:.0f}" font-size="11" fill="#475467">'
        f"if {escape(label)}</text>"
        if label
        else ""
    )
    return (
        f'<path d="{path}" fill="none" stroke="#98a2b3" stroke-width="1.5" '
        f'stroke-dasharray="5 4" marker-end="url(#arrow)"/>{text}'
    )


def _box(step: StepView, y: float) -> str:
    note = escape(step_note(step))
    return (
        f'<g class="node {status_class(step.status)}" data-step="{escape(step.name)}">'
        f"<title>{escape(step.title)}: {note}</title>"
        f'<rect x="{LEFT}" y="{y:.0f}" width="{BOX_W}" height="{BOX_H}" rx="6"/>'
        f'<text x="{LEFT + 14}" y="{y + 19:.0f}" font-size="13" font-weight="600">'
        f"{escape(step.title)}</text>"
        f'<text class="node-status" x="{LEFT + 14}" y="{y + 36:.0f}" font-size="11">'
        f"{note}</text></g>"
    )
