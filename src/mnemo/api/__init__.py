"""HTTP layer: routes parse and validate, call one service function, shape the reply."""
