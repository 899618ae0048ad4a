"""dockfix build lab: real Docker builds of original, dockfix and expert Dockerfiles."""
