"""Piccolo migrations, one package per app: migrations/<app>/."""
