"""What each RPC does, one module per resource: validate and normalise the input
(``validation``, ``codes``, ``usernames``), resolve event codes through the cache,
run the store functions in one transaction, clean up blobs after commit.

Every function takes the service's ``Resources`` first; the servicer only turns
messages into arguments and results back into messages.
"""
