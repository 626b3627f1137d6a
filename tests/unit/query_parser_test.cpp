// The search query language: arithmetic terms and quoted phrases.
#include <fstream>

#include <gtest/gtest.h>

#include "indexer/query_parser.h"
#include "tests/support/error_text.h"
#include "tests/support/paths.h"

namespace pictor {
namespace {

TEST(QueryParser, PlainTextIsNotArithmetic)
{
    EXPECT_FALSE(parseArithmeticQuery("dog on a beach").has_value());
    EXPECT_FALSE(parseArithmeticQuery("t-shirt with a+ grade").has_value()); // operators must stand alone
}

TEST(QueryParser, WeightsSignsAndImages)
{
    const auto image = test::scratchDir("query") / "photo.jpg";
    std::ofstream(image) << "x";
    const auto terms = parseArithmeticQuery("2:snow + " + image.string() + " - \"people walking\"");
    ASSERT_TRUE(terms.has_value());
    ASSERT_EQ(terms->size(), 3u);
    EXPECT_EQ((*terms)[0].text, "snow");
    EXPECT_DOUBLE_EQ((*terms)[0].weight, 2.0);
    ASSERT_TRUE((*terms)[1].image.has_value());
    EXPECT_EQ(*(*terms)[1].image, image);
    EXPECT_DOUBLE_EQ((*terms)[1].weight, 1.0);
    EXPECT_EQ((*terms)[2].text, "people walking");
    EXPECT_DOUBLE_EQ((*terms)[2].weight, -1.0);

    const auto relative = parseArithmeticQuery("0.5:./holiday.jpg + sunset");
    ASSERT_TRUE(relative.has_value());
    EXPECT_EQ(*(*relative)[0].image, std::filesystem::path("./holiday.jpg"));
    EXPECT_DOUBLE_EQ((*relative)[0].weight, 0.5);
    EXPECT_EQ((*parseArithmeticQuery("time: 10:30 + clock"))[0].text, "time: 10:30"); // not a weight
}

TEST(QueryParser, MalformedArithmeticIsAnError)
{
    EXPECT_NE(
        test::errorOf([] { parseArithmeticQuery("+ snow"); }).find("without a term"), std::string::npos);
    EXPECT_NE(
        test::errorOf([] { parseArithmeticQuery("snow -"); }).find("without a term"), std::string::npos);
    EXPECT_NE(test::errorOf([] { parseArithmeticQuery("snow + - rain"); }).find("without a term"),
        std::string::npos);
}

TEST(QueryParser, AWeightOutOfRangeIsNamed)
{
    EXPECT_EQ(test::errorOf([] { parseArithmeticQuery("1e308:snow + beach"); }),
        "the weight 1e308 of 'snow' is out of range: a term's weight goes from -100 to 100");
    EXPECT_NE(test::errorOf([] { parseArithmeticQuery("nan:snow + beach"); }).find("out of range"),
        std::string::npos);
    EXPECT_EQ((*parseArithmeticQuery("-100:snow + beach"))[0].weight, -100);
}

TEST(QueryParser, QuotedPhrases)
{
    const auto parts = splitQuotedPhrases("sunset \"beach house\" in \"summer");
    EXPECT_EQ(parts.vectorText, "sunset beach house in summer");
    ASSERT_EQ(parts.phrases.size(), 2u);
    EXPECT_EQ(parts.phrases[0], "beach house");
    EXPECT_EQ(parts.phrases[1], "summer");
    EXPECT_TRUE(splitQuotedPhrases("no quotes").phrases.empty());
}

} // namespace
} // namespace pictor
