"""The store: the database (SQLite by default, any SQLAlchemy URL), its schema and
migrations, and the artifact folder of model files.

This package knows SQL and files, nothing about the CLI, the console or HTTP. Importing
it is cheap; the heavy parts (SQLAlchemy, SQLModel) load in the submodules that use them.
"""
