"""The example's local source systems: a simulated DIY & garden marketplace and its connectors.

Not platform code and not a domain: the ``commerce`` and ``growth`` example domains
(``platform/domains/``) name what is here in their ``domain.yaml`` (``local_stand_in``) and
``connections.yaml`` (``embedded_source.module``). Deleting the example deletes this package.
"""
