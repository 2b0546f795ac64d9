"""driftbot: the drift engine (``bot.engine``), its command line (``bot.cli``) and the GitHub App."""
import os as _os

# ast-grep reports a bad rule or an unknown node kind as an error, and loading the rule packs asks
# about node kinds that some grammars lack. With RUST_BACKTRACE set (common on developers' and CI
# machines), each such error also captured and symbolised a stack trace: the first one read the
# parser library's symbols into memory (50 MB more for every run) and took 70 ms; only the message
# is used. Set here, before the engine loads ast-grep. RUST_LIB_BACKTRACE set by the user wins, and
# panics keep their backtraces.
_os.environ.setdefault("RUST_LIB_BACKTRACE", "0")
