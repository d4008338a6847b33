"""hoinghi core: the domain of reporter conferences. Imports neither web nor plugins."""
