"""One module per use case; each a small class with ``execute(command) -> result``."""
