"""Reports: read-only figures over deals, leads, activities and customers, their periods,
money conversion, drill-down to the records behind a number, and exports."""
