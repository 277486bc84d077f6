"""Limits that keep one client from starving the others: what a query may cost, how large a
request may be, how long a query may run, how many run at once (``[limits]`` settings)."""
