"""asyncsense: finds and fixes asyncio mistakes — CLI (`asyncsense check`) and language server.

The installed package is assembled from the repository's top-level folders
(see `[tool.setuptools.package-dir]` in pyproject.toml):

    asyncsense            <- cli/        the command line
    asyncsense.analyzers  <- analyzers/  engine, catalog, rules, fixes
    asyncsense.server     <- server/     the language server
"""

__version__ = "0.1.0"
