// Anchor translation unit for the shared Torch precompiled header.
