"""Storage: SQLAlchemy 2 models, the engine, dialect-specific queries and Alembic migrations.

Every piece of database-dialect knowledge lives in this package.
"""
