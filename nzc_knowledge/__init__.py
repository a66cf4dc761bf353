"""nzc-knowledge: search and peer-city recommendation for a climate-action knowledge repository."""

__version__ = "0.1.0"
