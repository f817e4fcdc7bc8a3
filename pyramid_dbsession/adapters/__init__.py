"""The adapters: Pyramid's session factory and tween, and the WSGI middleware, sharing one write runner."""
