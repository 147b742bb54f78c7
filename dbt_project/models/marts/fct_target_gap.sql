{#- Where each municipality stands against its target, per indicator and year, for the
    indicator's main population group. Status rules (DATA.md §3), in this order:
      no_target          no target applies to the indicator and municipality
      insufficient_data  the value is suppressed
      met                the value is at or beyond the target (direction-aware)
      insufficient_data  fewer than 3 years of values in the trend window
      on_track           the trend reaches the target by the target year
      off_track          otherwise
    The barometer's own verdict (development) compares the rounded value with the rounded
    baseline value, direction-aware: a fall is positive for lower-is-better indicators. -#}

with indicators as (
    select * from {{ ref('dim_indicator') }}
),

targets as (
    select * from {{ ref('stg_reference__targets') }}
),

main_group_values as (
    select
        v.indicator_code,
        v.municipality_code,
        v.year,
        v.value,
        i.direction,
        i.baseline_year
    from {{ ref('fct_indicator_values') }} as v
    inner join indicators as i
        on v.indicator_code = i.indicator_code
        and v.population_group = i.main_population_group
),

trends as (
    -- Least-squares slope over the last 5 available (not suppressed) years up to each year.
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
),

matched_targets as (
    -- A municipality's own target wins over one that applies to every municipality.
    select
        series.indicator_code,
        series.municipality_code,
        targets.target_value,
        targets.target_year,
        targets.target_kind
    from (select distinct indicator_code, municipality_code from main_group_values) as series
    inner join targets
        on series.indicator_code = targets.indicator_code
        and (targets.municipality_code = series.municipality_code or targets.municipality_code is null)
    qualify row_number() over (
        partition by series.indicator_code, series.municipality_code
        order by targets.municipality_code nulls last
    ) = 1
),

gaps as (
    select
        v.indicator_code,
        v.municipality_code,
        v.year,
        v.value,
        v.direction,
        national.value as national_value,
        t.target_value,
        t.target_year,
        t.target_kind,
        -- Positive means still short of the target, in the indicator's unit.
        round(
            case
                when v.direction = 'higher_is_better' then t.target_value - v.value
                else v.value - t.target_value
            end,
            6
        ) as gap_to_target,
        round(trends.trend_per_year, 4) as trend_per_year,
        coalesce(trends.trend_years, 0) as trend_years,
        case
            when v.direction = 'higher_is_better' then round(trends.trend_per_year, 4)
            else -round(trends.trend_per_year, 4)
        end as improvement_per_year,
        v.baseline_year,
        baseline.value as baseline_value
    from main_group_values as v
    left join trends using (indicator_code, municipality_code, year)
    left join matched_targets as t using (indicator_code, municipality_code)
    left join main_group_values as national
        on national.indicator_code = v.indicator_code
        and national.year = v.year
        and national.municipality_code = '000'
    left join main_group_values as baseline
        on baseline.indicator_code = v.indicator_code
        and baseline.municipality_code = v.municipality_code
        and baseline.year = v.baseline_year
),

projected as (
    select
        *,
        case
            when gap_to_target <= 0 then year
            -- Beyond a century the trend says nothing useful: report it as never (null).
            when trend_years >= 3 and improvement_per_year > 0
                and gap_to_target / improvement_per_year <= 100
                then year + ceil(round(gap_to_target / improvement_per_year, 6))::integer
        end as projected_year_reaching_target
    from gaps
)

select
    indicator_code,
    municipality_code,
    year,
    value,
    national_value,
    target_value,
    target_year,
    target_kind,
    gap_to_target,
    trend_per_year,
    projected_year_reaching_target::integer as projected_year_reaching_target,
    case
        when target_value is null then 'no_target'
        when value is null then 'insufficient_data'
        when gap_to_target <= 0 then 'met'
        when trend_years < 3 then 'insufficient_data'
        when projected_year_reaching_target <= target_year then 'on_track'
        else 'off_track'
    end as status,
    baseline_year,
    baseline_value,
    case
        when value is null or baseline_value is null then null
        when round(value) = round(baseline_value) then 'unchanged'
        when (round(value) > round(baseline_value)) = (direction = 'higher_is_better')
            then 'positive'
        else 'negative'
    end as development
from projected
