//! Jute binary encoding (`BinaryInputArchive`/`BinaryOutputArchive`): primitives, framing, errors.
