{#- Use the configured schema name as is (staging, marts, ...), not dbt's default
    "<target schema>_<custom schema>", so BI tools see plain schema names. On PostgreSQL the
    nightly job builds the marts in a build schema kept from night to night
    (BAROMETER_PG_MARTS_SCHEMA) and publishes a checked copy of them as marts
    (orchestration/engines/postgres/publish.py); by hand they go to marts. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name == 'marts' and target.type == 'postgres' -%}
        {{ env_var('BAROMETER_PG_MARTS_SCHEMA', 'marts') }}
    {%- else -%}
        {{ custom_schema_name if custom_schema_name else target.schema }}
    {%- endif -%}
{%- endmacro %}
