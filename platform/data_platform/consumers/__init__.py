"""Python assets that consume the warehouse's trusted models and marts (ML features, exports)."""
