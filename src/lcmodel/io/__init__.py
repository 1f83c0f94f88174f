"""Reading and writing files: tables, atomic writes, JSON and netCDF storage."""
