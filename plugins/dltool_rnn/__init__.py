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
def register_artifacts(artifacts):
    from dltool_rnn.corpus import LEE_CORPUS

    artifacts.add(LEE_CORPUS)
