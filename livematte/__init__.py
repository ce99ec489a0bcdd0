"""livematte: real-time human matting."""
