"""Every request that needs more than one backend call: the order of the calls,
their deadlines, and the answers that must not reveal whether an account exists.

A backend refusal propagates as ``grpc.RpcError`` and becomes HTTP in ``errors``.
Routes that need a single call make it themselves through ``Backends``.
"""
