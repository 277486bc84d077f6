"""The outermost layer: the HTTP app, the GraphQL schema and the command line."""
