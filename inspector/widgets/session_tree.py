"""SessionTree: the decoded data as a tree, built lazily as nodes are expanded."""

from __future__ import annotations

from typing import Any

from rich.highlighter import ReprHighlighter
from rich.text import Text
from textual.widgets import Tree

from .. import formatting

#: Children shown under one node; the rest are summarised in one line.
MAX_CHILDREN = 200
_highlight = ReprHighlighter()


def _is_container(value: Any) -> bool:
    return isinstance(value, dict | list | tuple | set | frozenset)


def _items(value: Any) -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [(repr(key), item) for key, item in value.items()]
    if isinstance(value, set | frozenset):
        return [(str(index), item) for index, item in enumerate(sorted(value, key=repr))]
    return [(str(index), item) for index, item in enumerate(value)]


def _summary(value: Any) -> str:
    kind = "{}" if isinstance(value, dict) else "[]"
    return f"{kind[0]}{len(value)} item{'s' if len(value) != 1 else ''}{kind[1]}"


class SessionTree(Tree[Any]):
    """A tree of nested dicts and lists; a node's children are added when it first opens."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("session", id=id)

    def show(self, data: dict[str, Any] | None) -> None:
        """Show ``data`` (None for data that did not decode)."""
        self.clear()
        if data is None:
            self.root.set_label(Text("data does not decode", style="bold red"))
            self.root.allow_expand = False
            return
        self.root.set_label(Text(f"session {_summary(data)}"))
        self.root.data = data
        self._grow(self.root, data)
        self.root.expand()

    def _grow(self, node: Any, value: Any) -> None:
        items = _items(value)
        for name, item in items[:MAX_CHILDREN]:
            # Names and reprs are stored data: a custom __repr__ may hold any character.
            shown_name = formatting.safe_text(name, style="bold")
            if _is_container(item):
                node.add(Text.assemble(shown_name, " ", _summary(item)), data=item, allow_expand=bool(item))
            else:
                node.add_leaf(Text.assemble(shown_name, " = ", _highlight(formatting.safe_text(repr(item)))))
        if len(items) > MAX_CHILDREN:
            node.add_leaf(Text(f"… {len(items) - MAX_CHILDREN:,} more", style="dim"))

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[Any]) -> None:
        node = event.node
        if node is not self.root and not node.children and node.data is not None:
            self._grow(node, node.data)
