{#- The target each indicator series is measured against: a municipality's own target wins
    over one that applies to every municipality. -#}
with series as (
    select distinct indicator_code, municipality_code
    from {{ ref('int_indicator_values_trended') }}
),

targets as (
    select * from {{ ref('stg_reference__targets') }}
)

select indicator_code, municipality_code, target_value, target_year, target_kind
from (
    select
        series.indicator_code,
        series.municipality_code,
        targets.target_value,
        targets.target_year,
        targets.target_kind,
        row_number() over (
            partition by series.indicator_code, series.municipality_code
            order by targets.municipality_code nulls last
        ) as preference
    from series
    inner join targets
        on series.indicator_code = targets.indicator_code
        and (targets.municipality_code = series.municipality_code or targets.municipality_code is null)
) as candidates
where preference = 1
