"""dltool rnn: basic RNN, GRU and LSTM from scratch and a character-level language model."""

import dltool


@dltool.hookimpl
def register_commands(commands):
    commands.add_lazy(
        "rnn",
        "dltool_rnn.cli:app",
        help="RNN, GRU and LSTM from scratch: char-level language model, gradcheck, shapes.",
    )


@dltool.hookimpl
def register_models(models):
    for cell in ("rnn", "gru", "lstm"):
        models.add(
            f"char-{cell}",
            f"dltool_rnn.cells_torch:char_{cell}",
            description=f"character model, {cell.upper()} 128 units, 81 characters (n_x, m, T_x)",
            input_size=(81, 1, 64),
        )


@dltool.hookimpl
def register_artifacts(artifacts):
    from dltool_rnn.weights import LEE_CORPUS

    artifacts.add(LEE_CORPUS)
