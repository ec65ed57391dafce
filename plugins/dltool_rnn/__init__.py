"""dltool rnn: basic RNN, GRU and LSTM from scratch and a character-level language model."""

import dltool
from dltool.exports import lazy_exports

_EXPORTS = {
    "CharModel": "dltool_rnn.cells_torch:CharModel",
    "char_rnn": "dltool_rnn.cells_torch:char_rnn",
    "char_gru": "dltool_rnn.cells_torch:char_gru",
    "char_lstm": "dltool_rnn.cells_torch:char_lstm",
    "init_model": "dltool_rnn.charmodel:init_model",
    "sample": "dltool_rnn.sampling:sample",
    "Vocabulary": "dltool_rnn.corpus:Vocabulary",
    "rnn_forward": "dltool_rnn.rnn:rnn_forward",
    "lstm_forward": "dltool_rnn.lstm:lstm_forward",
    "gru_forward": "dltool_rnn.gru:gru_forward",
    "save": "dltool_rnn.checkpoint:save",
    "load": "dltool_rnn.checkpoint:load",
    "course": "dltool_rnn.course",
}
__all__, __getattr__ = lazy_exports(__name__, _EXPORTS)  # PEP 562: imported on first use


@dltool.hookimpl
def register_commands(commands):
    """Mount ``dltool rnn``."""
    commands.add_lazy(
        "rnn",
        "dltool_rnn.cli:app",
        help="RNN, GRU and LSTM from scratch: char-level language model, gradcheck, shapes.",
    )


@dltool.hookimpl
def register_models(models):
    """Register rnn's named model builders."""
    for cell in ("rnn", "gru", "lstm"):
        models.add(
            f"char-{cell}",
            f"dltool_rnn.cells_torch:char_{cell}",
            description=f"character model, {cell.upper()} 128 units, 81 characters (n_x, m, T_x)",
            input_size=(81, 1, 64),
        )


@dltool.hookimpl
def register_artifacts(artifacts):
    """Declare rnn's checksummed artifact files."""
    from dltool_rnn.weights import LEE_CORPUS

    artifacts.add(LEE_CORPUS)
