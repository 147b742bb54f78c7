{#- Each indicator's main-group series per municipality (and the country, is_country) and
    year, with its trend: the least-squares slope over the last 5 available (not suppressed)
    years up to that year. -#}
with indicators as (
    select * from {{ ref('stg_reference__indicators') }}
),

municipalities as (
    select * from {{ ref('stg_reference__municipalities') }}
),

main_group_values as (
    select
        v.indicator_code,
        v.municipality_code,
        v.year,
        v.value,
        i.direction,
        i.baseline_year,
        m.is_country
    from {{ ref('int_indicator_values_current') }} as v
    inner join indicators as i
        on v.indicator_code = i.indicator_code
        and v.population_group = i.main_population_group
    inner join municipalities as m
        on v.municipality_code = m.municipality_code
),

trends as (
    select
        indicator_code,
        municipality_code,
        year,
        -- A slope needs two points; DuckDB gives NaN for one.
        case when count(*) over last_five >= 2 then regr_slope(value, year) over last_five end
            as trend_per_year,
        count(*) over last_five as trend_years
    from main_group_values
    where value is not null
    window last_five as (
        partition by indicator_code, municipality_code
        order by year
        rows between 4 preceding and current row
    )
)

select
    main_group_values.*,
    {{ round_half_away_from_zero('trends.trend_per_year', 4) }} as trend_per_year,
    coalesce(trends.trend_years, 0) as trend_years
from main_group_values
left join trends using (indicator_code, municipality_code, year)
