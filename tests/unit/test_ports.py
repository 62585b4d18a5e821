"""The ports the services declare and the adapters that implement them stay in step: every repository of the
unit of work is a Protocol whose methods the SQL adapter has with the same parameters, and the services call
nothing on a repository that its Protocol does not declare."""

from __future__ import annotations

import ast
import inspect
import textwrap
import typing
from pathlib import Path

import pytest

import fairdesk.services
from fairdesk.adapters.db.uow import SqlUnitOfWork
from fairdesk.services import ports

SERVICES = Path(fairdesk.services.__file__).parent
REPOSITORIES = typing.get_type_hints(ports.UnitOfWork)
REPOSITORIES = {name: hint for name, hint in REPOSITORIES.items() if isinstance(hint, type)
                and getattr(hint, "_is_protocol", False)}


def _adapters() -> dict[str, type]:
    """The class the SQL unit of work puts behind each repository name."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(SqlUnitOfWork.__enter__)))
    out = {}
    module = inspect.getmodule(SqlUnitOfWork)
    for node in ast.walk(tree):
        # self.<repository> = <module>.<Repository>(s)
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Attribute) \
                and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Attribute) \
                and isinstance(node.value.func.value, ast.Name) and node.value.func.value.id != "self":
            owner = getattr(module, node.value.func.value.id)
            out[node.targets[0].attr] = getattr(owner, node.value.func.attr)
    return out


ADAPTERS = _adapters()


def _methods(cls: type) -> dict[str, inspect.Signature]:
    """Public methods, inherited ones included."""
    return {name: inspect.signature(getattr(cls, name)) for name in dir(cls)
            if not name.startswith("_") and callable(getattr(cls, name))}


def _shape(sig: inspect.Signature) -> list[tuple[str, object, object]]:
    return [(p.name, p.kind, p.default) for p in sig.parameters.values()]


class TestPorts:
    def test_every_repository_the_unit_of_work_holds_is_declared_as_a_protocol(self) -> None:
        assert set(ADAPTERS) == set(REPOSITORIES)

    @pytest.mark.parametrize("name", sorted(REPOSITORIES))
    def test_each_adapter_has_exactly_its_protocols_methods_with_the_same_parameters(self, name: str) -> None:
        declared, built = _methods(REPOSITORIES[name]), _methods(ADAPTERS[name])
        assert set(declared) == set(built)
        for method, sig in declared.items():
            assert _shape(sig) == _shape(built[method]), f"{name}.{method}"

    def test_the_services_call_nothing_on_a_repository_that_its_port_does_not_declare(self) -> None:
        undeclared = []
        for path in sorted(SERVICES.glob("*.py")):
            for node in ast.walk(ast.parse(path.read_text("utf-8"))):
                # uow.<repository>.<method>
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute) \
                        and isinstance(node.value.value, ast.Name) and node.value.value.id == "uow":
                    repo = REPOSITORIES.get(node.value.attr)
                    if repo is None or node.attr not in _methods(repo):
                        undeclared.append(f"{path.name}:{node.lineno} uow.{node.value.attr}.{node.attr}")
        assert undeclared == []
