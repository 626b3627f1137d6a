// First run: the two steps (add a folder, get a model), each with its button. The gallery works after
// the first step alone; search needs the second: the recommended model downloads from here, with its
// progress (or the user chooses a folder).
#pragma once

#include <QWidget>

class QLabel;

namespace pictor::ui {

class WelcomePage : public QWidget {
    Q_OBJECT
public:
    explicit WelcomePage(QWidget* parent = nullptr);
    void setModelState(const QString& state, bool ready);
    // A library that cannot be read (a damaged or newer catalog): shown above the steps; empty hides it.
    void setLibraryProblem(const QString& problem);
    QString libraryProblem() const;

signals:
    void addFolderRequested();
    void chooseModelRequested();
    void modelDownloaded(const QString& dir); // the recommended model's snapshot folder

private:
    QLabel* modelState_;
    QWidget* download_; // hidden while a model is ready
    QLabel* problem_;
};

} // namespace pictor::ui
