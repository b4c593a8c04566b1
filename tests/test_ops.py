"""tinygrad_dl/ops/__init__.py: the table of every op's gradient rule."""

import tinygrad_dl as tg
from tinygrad_dl.autograd import Op


def test_every_op_in_the_ops_package_has_a_one_line_rule():
    rows = tg.ops.all_ops()
    assert len(rows) >= 40, f"only {len(rows)} ops found: the walk over ops/ missed modules"
    assert {"nn.functional", "nn.conv"} <= {module for module, _, _ in rows}
    missing = [f"{module}.{name}" for module, name, op in rows if not op.rule.strip()]
    assert not missing, f"ops without a rule=: {missing}"
    multi_line = [f"{module}.{name}" for module, name, op in rows if "\n" in op.rule]
    assert not multi_line, f"rules must be one line: {multi_line}"


def test_all_ops_finds_every_op_bound_in_an_ops_module():
    found = {id(op) for _, _, op in tg.ops.all_ops()}
    modules = (tg.ops.elementwise, tg.ops.reduce, tg.ops.shape, tg.ops.linalg, tg.ops.indexing)
    for module in modules + (tg.nn.functional,):
        for name, value in vars(module).items():
            if isinstance(value, Op):
                assert id(value) in found, f"{module.__name__}.{name}"


def test_rule_table_renders_one_markdown_row_per_op():
    table = tg.ops.rule_table()
    lines = table.strip().splitlines()
    assert lines[0] == "| op | defined as | gradient rule |"
    assert len(lines) == 2 + len(tg.ops.all_ops())
    assert "| `matmul` | `ops.linalg.MATMUL` | `dA = dY @ B.T, dB = A.T @ dY" in table
    for line in lines[2:]:
        # exactly four unescaped column separators: a "|" inside a rule would break the table
        assert line.replace("\\|", "").count("|") == 4, line
