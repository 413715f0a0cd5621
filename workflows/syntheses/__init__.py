"""Syntheses of a consultation (issue 6): the figures first; themes, quotes, pictures and the
published versions build on them."""
