"""Background work of a serving process, started and stopped by the app's lifespan."""
