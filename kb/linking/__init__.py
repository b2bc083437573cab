"""Linking with partners' data: the reconciliation service (``reconcile``), the names it
matches (``names``), the types and properties it offers (``vocabulary``) and the JSON Schemas
of the Reconciliation Service API 0.2 (``schemas``). Query services only: nothing here
writes; accepted links and harvests go through :class:`kb.submit.Writer`."""
