"""Webhooks: retailer systems and the brand's ERP subscribe to order events.

A Django app of its own (label ``webhooks``) inside ``orders``: it knows accounts and
the documents it describes, and orders and backorders call it from their services, so
the dependency rule (portal -> backorders -> orders) holds."""
