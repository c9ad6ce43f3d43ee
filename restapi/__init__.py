"""The conventions every app's REST API shares: token authentication, the one JSON
error shape, staff permissions, parsers, renderers and schema hooks. It imports no app,
so inventory, orders and backorders can use it (none of them may import portal)."""
