"""One router per resource. A route that needs one backend call makes it itself
through ``Backends`` (with its deadline); anything needing more calls a function in
``findme_gateway.flows``."""
