"""Negotiation scripts (SPEC §7): the YAML format, loading with line numbers, validation.

Format::

    id: padrao                     # script id
    version: 1                     # integer, bumped on every published change
    title: Roteiro padrão
    start: abertura                # optional; default: the first step
    steps:
      - id: identidade
        title: Confirmação de identidade
        gate: identity_confirmed   # the identity step: a choice with confirms_identity passes it
        requires_identity: false   # optional; true = never reachable before the gate
        sensitive: false           # optional; true = card data is read here: the recording is muted
                                   # while the agent is on this step (never the start step, and
                                   # never reachable before the identity gate)
        actions: [open_offer_calculator]          # optional: open_offer_calculator, schedule_callback
        text: |                    # jinja2 template, see scripting.render for the context
          Olá, {{ cliente.primeiro_nome }}...
        choices:
          - id: confirmou
            label: Dados conferem
            next: apresentar_divida        # either next ...
            confirms_identity: true
            capture: {key: motivo, catalogue: [{code: X, label: Y, company_caused: true}]}
          - id: recado
            label: Deixou recado
            dispose: RECADO                # ... or dispose with an outcome code
            actions: [schedule_callback]

Validation names the step id and the YAML line of each problem.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources

import yaml

from scripting.render import (
    DEBT_NAMESPACES,
    TemplateRefused,
    check_template,
    render_text,
    sample_context,
)

#: The default outcome catalogue (SPEC §7).
DEFAULT_OUTCOMES = frozenset(
    {"ACORDO", "PROMESSA", "RECUSA", "SEM_CONDICOES", "CONTESTA", "JA_PAGO", "RETORNAR", "RECADO", "TELEFONE_ERRADO", "FALECIDO"}
)
#: Outcomes that only the debtor can give: they need a confirmed identity.
RIGHT_PARTY_OUTCOMES = frozenset({"ACORDO", "PROMESSA", "RECUSA", "SEM_CONDICOES", "CONTESTA", "JA_PAGO"})
IDENTITY_GATE = "identity_confirmed"
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")


class Action(StrEnum):
    OPEN_OFFER_CALCULATOR = "open_offer_calculator"
    SCHEDULE_CALLBACK = "schedule_callback"


@dataclass(frozen=True)
class CatalogueItem:
    code: str
    label: str
    company_caused: bool = False


@dataclass(frozen=True)
class Capture:
    """What the agent records when taking a choice; free text when there is no catalogue."""

    key: str
    catalogue: tuple[CatalogueItem, ...] = ()

    def codes(self) -> frozenset[str]:
        return frozenset(item.code for item in self.catalogue)


@dataclass(frozen=True)
class Choice:
    id: str
    label: str
    line: int
    next: str | None = None
    dispose: str | None = None
    capture: Capture | None = None
    confirms_identity: bool = False
    actions: tuple[Action, ...] = ()
    # YAML lines of the keys validation may complain about (0: not written), so a problem
    # points at the line to fix, not at the choice's first line
    next_line: int = 0
    dispose_line: int = 0
    confirms_line: int = 0


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    text: str
    choices: tuple[Choice, ...]
    line: int
    text_line: int  # YAML line of the template's first line
    gate: str | None = None
    requires_identity: bool = False
    actions: tuple[Action, ...] = ()
    # Card data is spoken here (SPEC §3, PCI): the call's recording is muted while the agent is on it
    sensitive: bool = False

    def choice(self, choice_id: str) -> Choice:
        for choice in self.choices:
            if choice.id == choice_id:
                return choice
        raise KeyError(choice_id)


@dataclass(frozen=True)
class Script:
    id: str
    version: int
    title: str
    start: str
    steps: tuple[Step, ...]
    source: str = "<script>"
    start_line: int = 1  # YAML line of ``start:`` (1 when the first step is the start)

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    @property
    def step_ids(self) -> list[str]:
        return [s.id for s in self.steps]


@dataclass(frozen=True)
class ScriptIssue:
    line: int
    step: str | None
    message: str

    def format(self, source: str) -> str:
        """``FILE:LINE: passo <id>: message`` (or ``FILE:LINE: message`` outside steps)."""
        where = f"passo {self.step}: " if self.step else ""
        return f"{source}:{self.line}: {where}{self.message}"


class ScriptError(ValueError):
    """A script that does not load or does not validate; ``issues`` lists every problem."""

    def __init__(self, source: str, issues: Iterable[ScriptIssue]) -> None:
        self.source = source
        self.issues = tuple(issues)
        super().__init__("\n".join(issue.format(source) for issue in self.issues))


# --- loading -------------------------------------------------------------------------------


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


# PyYAML's problems, as the editor shows them; anything else keeps PyYAML's words after the pt-BR lead
_YAML_PROBLEMS = {
    "expected ',' or ']', but got": "esperava ',' ou ']'",
    "expected ',' or '}', but got": "esperava ',' ou '}'",
    "mapping values are not allowed here": "':' não é permitido aqui (faltam aspas no texto, ou a indentação está errada?)",
    "found character '\\t' that cannot start any token": "tabulação não é permitida; indente com espaços",
    "found unexpected end of stream": "o documento terminou antes de fechar as aspas ou o bloco",
    "could not find expected ':'": "faltou ':' depois da chave",
    "found undefined alias": "alias (*nome) não definido",
    "expected <block end>, but found": "indentação inconsistente",
}


def _yaml_issue(exc: yaml.YAMLError) -> ScriptIssue:
    """A YAML syntax error in pt-BR, at the line PyYAML found it, naming where the construct began."""
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else 1
    problem = str(getattr(exc, "problem", None) or exc)
    text = next((pt for en, pt in _YAML_PROBLEMS.items() if problem.startswith(en)), None)
    message = f"YAML inválido: {text or problem}"
    context = getattr(exc, "context_mark", None)
    if context is not None and context.line + 1 != line:
        message += f" (o trecho começa na linha {context.line + 1})"
    return ScriptIssue(line, None, message)


class _Reader:
    """Turns the YAML node tree into a Script, collecting every structural issue with its line."""

    def __init__(self) -> None:
        self.issues: list[ScriptIssue] = []
        self.step: str | None = None

    def issue(self, node: yaml.Node | int, message: str) -> None:
        line = node if isinstance(node, int) else _line(node)
        self.issues.append(ScriptIssue(line, self.step, message))

    def mapping(self, node: yaml.Node, what: str, allowed: set[str], required: set[str]) -> dict[str, yaml.Node] | None:
        if not isinstance(node, yaml.MappingNode):
            self.issue(node, f"{what}: deve ser um mapa (chave: valor)")
            return None
        out: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is None:
                self.issue(key_node, f"{what}: as chaves devem ser nomes simples")
            elif key in out:
                self.issue(key_node, f"{what}: chave '{key}' repetida")
            elif key not in allowed:
                self.issue(key_node, f"{what}: chave desconhecida '{key}' (permitidas: {', '.join(sorted(allowed))})")
            else:
                out[key] = value_node
        for key in sorted(required - set(out)):
            self.issue(node, f"{what}: falta '{key}'")
        return out

    def text(self, node: yaml.Node | None, what: str, *, empty_ok: bool = False) -> str | None:
        if node is None:
            return None
        if not isinstance(node, yaml.ScalarNode) or node.tag.endswith((":null", ":bool")):
            self.issue(node, f"{what}: deve ser um texto")
            return None
        if not empty_ok and not node.value.strip():
            self.issue(node, f"{what}: não pode ser vazio")
            return None
        return node.value

    def identifier(self, node: yaml.Node | None, what: str) -> str | None:
        value = self.text(node, what)
        if value is not None and not _IDENTIFIER.match(value):
            assert node is not None
            self.issue(node, f"{what} '{value}': use letras minúsculas, dígitos e _ (começando por uma letra)")
            return None
        return value

    def flag(self, node: yaml.Node | None, what: str) -> bool:
        if node is None:
            return False
        if not isinstance(node, yaml.ScalarNode) or not node.tag.endswith(":bool"):
            self.issue(node, f"{what}: deve ser true ou false")
            return False
        return node.value.lower() in ("true", "yes", "on")

    def actions(self, node: yaml.Node | None, what: str) -> tuple[Action, ...]:
        if node is None:
            return ()
        if not isinstance(node, yaml.SequenceNode):
            self.issue(node, f"{what}: deve ser uma lista")
            return ()
        out = []
        for item in node.value:
            name = self.text(item, what)
            if name is None:  # text() has reported the problem
                continue
            try:
                out.append(Action(name))
            except ValueError:
                allowed = ", ".join(a.value for a in Action)
                self.issue(item, f"{what}: ação desconhecida {name!r} (permitidas: {allowed}; dispose vai numa escolha)")
        return tuple(out)

    def capture(self, node: yaml.Node) -> Capture | None:
        fields = self.mapping(node, "capture", {"key", "catalogue"}, {"key"})
        if fields is None:
            return None
        key = self.identifier(fields.get("key"), "capture.key")
        items: list[CatalogueItem] = []
        catalogue = fields.get("catalogue")
        if catalogue is not None:
            if not isinstance(catalogue, yaml.SequenceNode) or not catalogue.value:
                self.issue(catalogue, "capture.catalogue: deve ser uma lista não vazia")
            else:
                seen: set[str] = set()
                for item_node in catalogue.value:
                    item = self.mapping(item_node, "item do catalogue", {"code", "label", "company_caused"}, {"code", "label"})
                    if item is None:
                        continue
                    code = self.text(item.get("code"), "code do catalogue")
                    label = self.text(item.get("label"), "label do catalogue")
                    if code is not None and code in seen:
                        self.issue(item_node, f"catalogue: código '{code}' repetido")
                    if code is not None and label is not None:
                        seen.add(code)
                        items.append(CatalogueItem(code, label, self.flag(item.get("company_caused"), "company_caused")))
        return Capture(key, tuple(items)) if key is not None else None

    def choice(self, node: yaml.Node) -> Choice | None:
        allowed = {"id", "label", "next", "dispose", "capture", "confirms_identity", "actions"}
        fields = self.mapping(node, "escolha", allowed, {"id", "label"})
        if fields is None:
            return None
        choice_id = self.identifier(fields.get("id"), "id da escolha")
        label = self.text(fields.get("label"), "label da escolha")
        next_step = self.text(fields.get("next"), "next")
        dispose = self.text(fields.get("dispose"), "dispose")
        if ("next" in fields) == ("dispose" in fields):
            self.issue(node, f"escolha '{choice_id}': precisa de exatamente um entre 'next' (o id de um passo) e 'dispose' (um código de resultado)")
        capture = self.capture(fields["capture"]) if "capture" in fields else None
        if choice_id is None or label is None:
            return None
        return Choice(
            id=choice_id,
            label=label,
            line=_line(node),
            next=next_step,
            dispose=dispose,
            next_line=_line(fields["next"]) if "next" in fields else 0,
            dispose_line=_line(fields["dispose"]) if "dispose" in fields else 0,
            confirms_line=_line(fields["confirms_identity"]) if "confirms_identity" in fields else 0,
            capture=capture,
            confirms_identity=self.flag(fields.get("confirms_identity"), "confirms_identity"),
            actions=self.actions(fields.get("actions"), "actions"),
        )

    def step_from(self, node: yaml.Node) -> Step | None:
        self.step = None
        allowed = {"id", "title", "text", "choices", "gate", "requires_identity", "actions", "sensitive"}
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if getattr(key_node, "value", None) == "id" and isinstance(value_node, yaml.ScalarNode):
                    self.step = value_node.value
        fields = self.mapping(node, "passo", allowed, {"id", "title", "text", "choices"})
        if fields is None:
            return None
        step_id = self.identifier(fields.get("id"), "id do passo")
        title = self.text(fields.get("title"), "title")
        text = self.text(fields.get("text"), "text")
        gate = self.text(fields.get("gate"), "gate")
        if gate is not None and gate != IDENTITY_GATE:
            self.issue(fields["gate"], f"gate desconhecido '{gate}' (o único é {IDENTITY_GATE})")
            gate = None
        choices: list[Choice] = []
        choices_node = fields.get("choices")
        if choices_node is not None:
            if not isinstance(choices_node, yaml.SequenceNode) or not choices_node.value:
                self.issue(choices_node, "choices: deve ser uma lista não vazia")
            else:
                seen: set[str] = set()
                for choice_node in choices_node.value:
                    choice = self.choice(choice_node)
                    if choice is None:
                        continue
                    if choice.id in seen:
                        self.issue(choice_node, f"id de escolha '{choice.id}' repetido")
                    seen.add(choice.id)
                    choices.append(choice)
        if step_id is None or title is None or text is None:
            return None
        text_node = fields["text"]
        # A block scalar ("|" or ">") starts on the line after its indicator.
        text_line = _line(text_node) + (1 if getattr(text_node, "style", None) in ("|", ">") else 0)
        return Step(
            id=step_id,
            title=title,
            text=text,
            choices=tuple(choices),
            line=_line(node),
            text_line=text_line,
            gate=gate,
            requires_identity=self.flag(fields.get("requires_identity"), "requires_identity"),
            actions=self.actions(fields.get("actions"), "actions"),
            sensitive=self.flag(fields.get("sensitive"), "sensitive"),
        )


def load_script(text: str, source: str = "<script>") -> Script:
    """Parses a script document; raises ScriptError listing every structural problem."""
    reader = _Reader()
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise ScriptError(source, [_yaml_issue(exc)]) from None
    if root is None:
        raise ScriptError(source, [ScriptIssue(1, None, "o documento está vazio")])
    fields = reader.mapping(root, "roteiro", {"id", "version", "title", "start", "steps"}, {"id", "version", "title", "steps"})
    if fields is None:
        raise ScriptError(source, reader.issues)
    script_id = reader.identifier(fields.get("id"), "id do roteiro")
    title = reader.text(fields.get("title"), "title")
    version = 0
    version_node = fields.get("version")
    if version_node is not None:
        if isinstance(version_node, yaml.ScalarNode) and version_node.tag.endswith(":int") and int(version_node.value) >= 1:
            version = int(version_node.value)
        else:
            reader.issue(version_node, "version: deve ser um número inteiro maior ou igual a 1")
    steps: list[Step] = []
    steps_node = fields.get("steps")
    if steps_node is not None:
        if not isinstance(steps_node, yaml.SequenceNode) or not steps_node.value:
            reader.issue(steps_node, "steps: deve ser uma lista não vazia")
        else:
            for step_node in steps_node.value:
                step = reader.step_from(step_node)
                if step is not None:
                    steps.append(step)
            reader.step = None
    start = reader.identifier(fields.get("start"), "start") if "start" in fields else (steps[0].id if steps else None)
    if reader.issues or script_id is None or title is None or start is None:
        raise ScriptError(source, reader.issues)
    start_line = _line(fields["start"]) if "start" in fields else 1
    return Script(id=script_id, version=version, title=title, start=start, steps=tuple(steps), source=source,
                  start_line=start_line)


# --- validation ----------------------------------------------------------------------------


def validate_script(
    script: Script, outcomes: frozenset[str] = DEFAULT_OUTCOMES, on_step: Callable[[str, int], None] | None = None
) -> list[ScriptIssue]:
    """Every problem of a loaded script: graph, outcomes, templates and the identity gate.

    ``on_step`` is told each step's id and YAML line before its text is checked (a caller
    that gives up on a slow validation can name the step it was on).
    """
    issues: list[ScriptIssue] = []
    by_id: dict[str, Step] = {}
    for step in script.steps:
        if step.id in by_id:
            issues.append(ScriptIssue(step.line, step.id, f"id de passo repetido (o primeiro está na linha {by_id[step.id].line})"))
        else:
            by_id[step.id] = step
    if script.start not in by_id:
        issues.append(ScriptIssue(script.start_line, None, f"o passo inicial '{script.start}' não existe"))
        return issues

    reveals: dict[str, str] = {}  # step id -> why it needs a confirmed identity
    for step in script.steps:
        if on_step is not None:
            on_step(step.id, step.line)
        check = check_template(step.text)
        for problem in check.problems:
            issues.append(ScriptIssue(step.text_line + problem.line - 1, step.id, problem.message))
        if not check.problems:
            # A trial render with the sample customer: resource limits (output size, repetition,
            # time) only show when the text is evaluated, and a refusal must come now, not mid-call.
            try:
                render_text(step.text, sample_context(), identity_confirmed=True)
            except TemplateRefused as exc:
                for problem in exc.problems:
                    issues.append(ScriptIssue(step.text_line + problem.line - 1, step.id, problem.message))
        debt_names = sorted(check.namespaces & DEBT_NAMESPACES)
        if debt_names:
            reveals[step.id] = "mostra " + ", ".join(f"{n}.*" for n in debt_names)
        elif Action.OPEN_OFFER_CALCULATOR in step.actions or any(
            Action.OPEN_OFFER_CALCULATOR in c.actions for c in step.choices
        ):
            reveals[step.id] = "abre a calculadora de ofertas"
        elif step.requires_identity:
            reveals[step.id] = "tem requires_identity"
        elif step.sensitive:
            reveals[step.id] = "é sensível (dados de cartão)"
        if step.sensitive and step.id == script.start:
            # the recording notice is read on the start step: it must be on the recording
            issues.append(ScriptIssue(step.line, step.id, "o passo inicial não pode ser sensível (o aviso de gravação é lido nele)"))
        if step.gate == IDENTITY_GATE and not any(c.confirms_identity for c in step.choices):
            issues.append(ScriptIssue(step.line, step.id, "o passo de confirmação de identidade não tem escolha com confirms_identity: true"))
        for choice in step.choices:
            if choice.next is not None and choice.next not in by_id:
                issues.append(ScriptIssue(choice.next_line or choice.line, step.id, f"escolha '{choice.id}': o próximo passo '{choice.next}' não existe"))
            if choice.dispose is not None and choice.dispose not in outcomes:
                known = ", ".join(sorted(outcomes))
                issues.append(
                    ScriptIssue(choice.dispose_line or choice.line, step.id, f"escolha '{choice.id}': resultado desconhecido '{choice.dispose}' (conhecidos: {known})")
                )
            if choice.confirms_identity and step.gate != IDENTITY_GATE:
                issues.append(
                    ScriptIssue(choice.confirms_line or choice.line, step.id, f"escolha '{choice.id}': confirms_identity fora do passo de confirmação de identidade")
                )

    edges = {s.id: [c.next for c in s.choices if c.next in by_id] for s in script.steps}
    reachable = _reachable(script.start, edges)
    for step in script.steps:
        if step.id not in reachable:
            issues.append(ScriptIssue(step.line, step.id, f"inalcançável a partir do passo inicial '{script.start}'"))

    disposing = {s.id for s in script.steps if any(c.dispose for c in s.choices)}
    reverse: dict[str, list[str]] = {s: [] for s in by_id}
    for source_id, targets in edges.items():
        for target in targets:
            reverse[target].append(source_id)
    can_finish = _reachable_from_all(disposing, reverse)
    for step in script.steps:
        if step.id not in can_finish:
            issues.append(ScriptIssue(step.line, step.id, "beco sem saída: nenhum resultado pode ser alcançado a partir deste passo"))

    before_identity_edges = {
        s.id: [c.next for c in s.choices if c.next in by_id and not c.confirms_identity] for s in script.steps
    }
    parents = _bfs_parents(script.start, before_identity_edges)
    for step in script.steps:
        if step.id not in parents:
            continue
        if step.id in reveals:
            path = " -> ".join(_path_to(step.id, parents))
            issues.append(
                ScriptIssue(
                    step.line, step.id, f"{reveals[step.id]}, mas pode ser alcançado antes da confirmação de identidade ({path})"
                )
            )
        for choice in step.choices:
            if choice.dispose in RIGHT_PARTY_OUTCOMES and not choice.confirms_identity:
                issues.append(
                    ScriptIssue(
                        choice.dispose_line or choice.line,
                        step.id,
                        f"escolha '{choice.id}': o resultado {choice.dispose} exige identidade confirmada, "
                        "mas este passo pode ser alcançado antes da confirmação",
                    )
                )
    issues.sort(key=lambda i: (i.line, i.message))
    return issues


def check_script(
    text: str,
    source: str = "<script>",
    outcomes: frozenset[str] = DEFAULT_OUTCOMES,
    on_step: Callable[[str, int], None] | None = None,
) -> Script:
    """Loads and validates; raises ScriptError with every issue, else returns the script."""
    script = load_script(text, source)
    issues = validate_script(script, outcomes, on_step)
    if issues:
        raise ScriptError(source, issues)
    return script


def load_default_script() -> Script:
    """The shipped pt-BR collection script (``scripting/scripts/padrao.yaml``), validated."""
    text = resources.files("scripting").joinpath("scripts/padrao.yaml").read_text(encoding="utf-8")
    return check_script(text, "scripting/scripts/padrao.yaml")


def _reachable(start: str, edges: dict[str, list[str]]) -> set[str]:
    return set(_bfs_parents(start, edges))


def _bfs_parents(start: str, edges: dict[str, list[str]]) -> dict[str, str | None]:
    parents: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        current = queue.popleft()
        for target in edges.get(current, []):
            if target not in parents:
                parents[target] = current
                queue.append(target)
    return parents


def _reachable_from_all(starts: set[str], edges: dict[str, list[str]]) -> set[str]:
    seen = set(starts)
    queue = deque(starts)
    while queue:
        for target in edges.get(queue.popleft(), []):
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return seen


def _path_to(step_id: str, parents: dict[str, str | None]) -> list[str]:
    path: list[str] = []
    current: str | None = step_id
    while current is not None:
        path.append(current)
        current = parents[current]
    return list(reversed(path))
