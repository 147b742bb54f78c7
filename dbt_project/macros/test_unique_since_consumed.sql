{#- dbt's `unique` for a table that grows by nightly deltas: each key of a row that the model's
    incremental consumer has not read yet is checked against every row, instead of grouping all
    (10 M) rows each night. Nulls are ignored, as `unique` does.

    Exactly as strict as `unique` under the nightly `dbt build`:
    - `dbt build` runs the consumer only after every test of this model passed, so each row the
      consumer has read (changed_column at or below the consumer's watermark, the max of its
      own consumer_column) was in the table when this test last passed, and then no two rows
      of the table shared a key;
    - rows are never updated in place: they are deleted, or inserted with a later load time
      (the assumption the incremental models already rest on), so the rows read are still
      unique among themselves;
    - so any duplicate has at least one row the consumer has not read, and its key is checked
      here against the whole table. A duplicate left by a failed night stays unread (the
      consumer was skipped), so it is checked again every night until it is gone.
    Before the consumer's first build every key is checked, with `unique`'s own query. A
    consumer built by `dbt run` without this test would read rows unverified: only `dbt build`
    gives the guarantee. -#}
{% test unique_since_consumed(model, column_name, changed_column, consumer, consumer_column) %}
{%- set consumed = none -%}
{%- if execute -%}
    {%- set nodes = graph.nodes.values() | selectattr('resource_type', 'equalto', 'model')
        | selectattr('name', 'equalto', consumer) | list -%}
    {%- if not nodes -%}
        {{ exceptions.raise_compiler_error("unique_since_consumed: no model " ~ consumer) }}
    {%- endif -%}
    {#- No ref(): the consumer runs after this test, and must not make it wait. -#}
    {%- set consumed = adapter.get_relation(
        database=nodes[0].database, schema=nodes[0].schema, identifier=nodes[0].alias) -%}
{%- endif -%}
{%- if consumed is none %}
select {{ column_name }} as unique_field, count(*) as n_records
from {{ model }}
where {{ column_name }} is not null
group by {{ column_name }}
having count(*) > 1
{%- else %}
with watermark as (
    select max({{ consumer_column }}) as consumed_to from {{ consumed }}
),

unread as (
    select {{ column_name }} as unique_field
    from {{ model }}
    -- An empty consumer (null watermark) or a row without a load time: checked.
    where not coalesce({{ changed_column }} <= (select consumed_to from watermark), false)
)

select {{ column_name }} as unique_field, count(*) as n_records
from {{ model }}
where {{ column_name }} in (select unique_field from unread)
group by {{ column_name }}
having count(*) > 1
{%- endif %}
{% endtest %}
