"""Generated tables of facts dockfix relies on (each names the tool that regenerates it)."""
