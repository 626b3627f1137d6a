// The search bar: words typed (search as you type, debounced), photo chips dropped on it (from the grid
// or from a file manager) for composed photo + text queries, and the weight slider between them.
#pragma once

#include <QTimer>
#include <QWidget>

#include "ui/search_request.h"

class QHBoxLayout;
class QLabel;
class QLineEdit;
class QSlider;

namespace pictor::ui {

class PhotoChip;

class SearchBar : public QWidget {
    Q_OBJECT
public:
    static constexpr int kDebounceMs = 150;
    explicit SearchBar(QWidget* parent = nullptr);

    QString text() const;
    void setText(const QString& text); // as if typed (debounced)
    std::vector<PhotoTerm> photos() const;
    void addPhoto(const PhotoTerm& term); // becomes a chip; the query changes at once
    double textWeight() const;
    void setTextWeight(double weight);
    void clear();
    bool empty() const;
    QLineEdit* lineEdit() const { return edit_; }
    void focusSearch();
    // Shown under the bar: why there are no results, or what is missing.
    void setMessage(const QString& message);

signals:
    void queryChanged(); // after the debounce, or at once for chips and the slider

protected:
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void chipsChanged();

    QLineEdit* edit_;
    QHBoxLayout* chips_;
    QSlider* weight_;
    QLabel* weightLabel_;
    QLabel* message_;
    QTimer debounce_;
    QList<PhotoChip*> chipWidgets_;
};

} // namespace pictor::ui
